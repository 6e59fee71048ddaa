// Camera health: every camera the user may see, its state and why, rates, latency,
// node and the age of its last frame, refreshed with each status message.

import { el } from "../dom.js";
import { t } from "../i18n.js";
import { badge } from "../tile.js";
import { GroupFilter, errorText, milliseconds, nodeLabel, number } from "./common.js";

const COLUMNS = [
  ["field.camera", null],
  ["field.groups", null],
  ["field.state", null],
  ["field.reason", null],
  ["field.fps_in", "num"],
  ["field.fps_out", "num"],
  ["field.latency", "num"],
  ["field.node", null],
  ["field.age", "num"],
];

export class HealthView {
  constructor({ connection }) {
    this.connection = connection;
    this.cameras = [];
  }

  enter(main) {
    this.filter = new GroupFilter(() => this.render());
    this.banner = el("p", { class: "message", hidden: true });
    this.body = el("tbody");
    const head = el("tr", {}, COLUMNS.map(([key, cls]) => el("th", { class: cls, text: t(key) })));
    main.replaceChildren(
      el("div", { class: "toolbar" }, el("h1", { text: t("health.title") }), this.filter.element),
      this.banner,
      el("table", { class: "health", id: "health" }, el("thead", {}, head), this.body),
    );
    this.connection.subscribe("status", null, {}, {
      cameras: (message) => this.onCameras(message),
    });
  }

  leave() {
    this.connection.unsubscribe("status", null);
  }

  onCameras(message) {
    if (message.error) {
      this.banner.textContent = errorText(message.error);
      this.banner.hidden = false;
      return;
    }
    this.banner.hidden = true;
    this.cameras = message.cameras;
    this.filter.update(this.cameras);
    this.render();
  }

  render() {
    const rows = this.cameras
      .filter((camera) => this.filter.matches(camera))
      .map((c) =>
        el(
          "tr",
          { class: c.state === "live" ? "" : "trouble", dataset: { camera: c.id, state: c.state } },
          el("td", {}, el("a", { href: `/camera/${encodeURIComponent(c.id)}`, dataset: { route: "" }, text: c.name }),
            " ", el("span", { class: "id", text: c.id })),
          el("td", { class: "groups", text: c.groups.join(", ") }),
          el("td", {}, badge(c.state)),
          el("td", { text: c.reason || "" }),
          el("td", { class: "num", text: number(c.fps_in) }),
          el("td", { class: "num", text: number(c.fps_out) }),
          el("td", { class: "num", text: milliseconds(c.latency_s) }),
          el("td", {}, nodeLabel(c.node)),
          el("td", { class: "num", text: number(c.last_frame_age_s) }),
        ),
      );
    this.body.replaceChildren(...rows);
  }
}
