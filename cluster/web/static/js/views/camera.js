// One camera large: a higher frame rate, its status, boxes, snapshot download.
// Its recent and live events are in the side panel (an "events" channel of this camera);
// its zones and lines are drawn over the picture (and, for operators, its privacy masks
// outlined), with a link to the zone editor for operators.

import { api } from "../api.js";
import { el } from "../dom.js";
import { EventFeed } from "../events.js";
import { t } from "../i18n.js";
import { Player, timelineSpan } from "../player.js";
import { ShapesOverlay } from "../shapes.js";
import { Picture, badge } from "../tile.js";
import { errorPage, errorText, followVisibility, milliseconds, nodeLabel, number } from "./common.js";

export class CameraView {
  constructor({ connection, user, role }, cameraId) {
    this.connection = connection;
    this.user = user;
    this.role = role;
    this.id = cameraId;
    this.overlay = false;
    this.paused = document.hidden;
    this.left = false;
  }

  async enter(main) {
    main.replaceChildren(el("p", { class: "loading", text: "…" }));
    let camera;
    try {
      camera = await api.get(`/api/cameras/${encodeURIComponent(this.id)}`);
    } catch (error) {
      if (!this.left) main.replaceChildren(errorPage(error.status || 503, error));
      return;
    }
    if (this.left) return;
    this.canvas = el("canvas", { width: 16, height: 9, id: "large", dataset: { camera: this.id } });
    this.picture = new Picture(this.canvas);
    this.shapes = new ShapesOverlay("camera-shapes");
    const showShapes = el("input", { type: "checkbox", id: "show-zones", checked: true });
    showShapes.addEventListener("change", () => this.shapes.element.classList.toggle("off", !showShapes.checked));
    const mayEdit = this.role === "operator" || this.role === "admin";
    const editor = mayEdit
      ? el("a", {
          href: `/editor/${encodeURIComponent(this.id)}`,
          dataset: { route: "" },
          id: "edit-zones",
          text: t("editor.open"),
        })
      : null;
    this.title = el("h1", { id: "camera-name" });
    this.fields = el("dl", { id: "camera-status" });
    this.problem = el("p", { class: "message", hidden: true });
    const overlay = el("input", { type: "checkbox", id: "overlay" });
    overlay.addEventListener("change", () => this.setOverlay(overlay.checked));
    const snapshot = el("a", {
      href: `/api/cameras/${encodeURIComponent(this.id)}/snapshot`,
      download: "",
      id: "snapshot",
      text: t("camera.snapshot"),
    });
    main.replaceChildren(
      el("p", {}, el("a", { href: "/", dataset: { route: "" }, text: t("camera.back") })),
      el(
        "div",
        { class: "camera" },
        el(
          "div",
          { class: "large" },
          this.title,
          el("div", { class: "stage" }, this.canvas, this.shapes.element),
          this.problem,
          this.recordings(camera),
        ),
        el(
          "aside",
          { class: "panel" },
          el("h2", { text: t("camera.status") }),
          this.fields,
          el(
            "div",
            { class: "actions" },
            el("label", {}, overlay, " ", t("wall.overlay")),
            el("label", {}, showShapes, " ", t("camera.zones")),
            snapshot,
            editor,
          ),
        ),
      ),
    );
    this.names = new Map([[this.id, camera.name]]);
    this.feed = new EventFeed(this.connection, {
      camera: this.id,
      user: this.user,
      role: this.role,
      names: this.names,
      limit: 20,
      title: t("events.recent"),
    });
    main.querySelector(".camera aside").append(this.feed.element);
    this.feed.start();
    this.show(camera);
    this.loadShapes();
    this.stopFollowing = followVisibility(this);
    this.connection.subscribe("status", null, {}, {
      cameras: (message) => {
        const found = (message.cameras || []).find((c) => c.id === this.id);
        if (found) this.show(found);
      },
    });
    this.resume();
  }

  // The camera's recordings of the last `timeline_s` (one hour): click to play any moment.
  recordings(camera) {
    this.player = new Player(this.id, camera.name);
    const refresh = el("button", { type: "button", class: "plain", id: "refresh-timeline", text: t("playback.refresh") });
    const load = () => {
      const now = Date.now() / 1000;
      this.player.loadTimeline(now - timelineSpan(), now);
    };
    refresh.addEventListener("click", load);
    load();
    return el(
      "section",
      { class: "panel recordings", id: "camera-recordings" },
      el("div", { class: "feed-head" }, el("h2", { text: t("playback.recent") }), refresh),
      this.player.element,
    );
  }

  async loadShapes() {
    try {
      this.shapes.draw(await api.get(`/api/cameras/${encodeURIComponent(this.id)}/zones`));
    } catch (error) {
      console.warn("zones not loaded:", error.message);
    }
  }

  leave() {
    this.left = true;
    if (this.stopFollowing) this.stopFollowing();
    if (this.feed) this.feed.stop();
    this.connection.unsubscribe("status", null);
    this.pause();
    if (this.picture) this.picture.release();
    if (this.player) this.player.stop();
  }

  show(camera) {
    this.title.textContent = camera.name;
    const rows = [
      [t("field.state"), badge(camera.state)],
      [t("field.reason"), camera.reason || "—"],
      [t("field.fps_in"), number(camera.fps_in)],
      [t("field.fps_out"), number(camera.fps_out)],
      [t("field.latency"), milliseconds(camera.latency_s)],
      [t("field.node"), nodeLabel(camera.node)],
      [t("field.age"), number(camera.last_frame_age_s)],
      [t("field.mode"), camera.mode || "—"],
      [t("field.reconnects"), camera.reconnects ?? "—"],
      [t("field.groups"), camera.groups.join(", ") || "—"],
    ];
    this.fields.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", {}, value)]));
  }

  setOverlay(on) {
    this.overlay = on;
    this.picture.setOverlay(on);
    if (on) this.resume();
    else this.connection.unsubscribe("detections", this.id);
  }

  pause() {
    this.paused = true;
    this.connection.unsubscribe("frames", this.id);
    this.connection.unsubscribe("detections", this.id);
  }

  resume() {
    this.paused = false;
    if (!this.picture || this.left) return;
    const closed = (message) => {
      this.problem.textContent = errorText(message);
      this.problem.hidden = false;
    };
    if (!this.connection.has("frames", this.id)) {
      this.connection.subscribe("frames", this.id, { size: "large" }, {
        frame: (header, blob) => {
          this.shapes.size(header.width, header.height);
          return this.picture.frame(header, blob);
        },
        closed,
      });
    }
    if (this.overlay && !this.connection.has("detections", this.id)) {
      this.connection.subscribe("detections", this.id, {}, {
        detections: (message) => this.picture.setDetections(message),
        closed,
      });
    }
  }
}
