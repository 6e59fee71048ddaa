// Search: events by camera or group, type, severity, class, rule and time range, as a
// thumbnail grid, page by page with the store's cursor, and the same search as a CSV
// download (GET /api/events.csv: every matching row, streamed by the server).

import { api } from "../api.js";
import { el } from "../dom.js";
import { ackElement, eventDetails, thumbnail } from "../events.js";
import { playButton } from "../player.js";
import { t } from "../i18n.js";
import { errorText, groupsOf } from "./common.js";

const TYPES = [
  "zone_enter",
  "zone_leave",
  "loitering",
  "occupancy",
  "line_crossing",
  "stream_lost",
  "stream_stalled",
  "tamper_black",
  "tamper_uniform",
  "tamper_defocus",
  "tamper_moved",
];

function select(id, label, options) {
  const element = el("select", { id, name: id });
  element.append(el("option", { value: "", text: t("search.any") }));
  for (const [value, text] of options) element.append(el("option", { value, text }));
  return { element, field: el("label", {}, el("span", { text: label }), element) };
}

function input(id, label, type = "text") {
  const element = el("input", { id, name: id, type });
  return { element, field: el("label", {}, el("span", { text: label }), element) };
}

// A datetime-local value is the browser's local time: sent as an ISO time with its offset.
function isoWithOffset(value) {
  if (!value) return "";
  const date = new Date(value);
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
  const minutes = String(Math.abs(offset) % 60).padStart(2, "0");
  return `${value.length === 16 ? `${value}:00` : value}${sign}${hours}:${minutes}`;
}

export class SearchView {
  constructor({ connection, role }) {
    this.connection = connection;
    this.role = role;
    this.names = new Map();
    this.cursor = null;
  }

  enter(main) {
    this.camera = select("search-camera", t("field.camera"), []);
    this.group = select("search-group", t("wall.group"), []);
    this.type = select("search-type", t("search.type"), TYPES.map((type) => [type, t(`type.${type}`)]));
    this.severity = select("search-severity", t("search.severity"), [
      ["alert", t("events.alert")],
      ["info", t("events.info")],
    ]);
    this.className = input("search-class", t("search.class"));
    this.rule = input("search-rule", t("search.rule"));
    this.from = input("search-from", t("search.from"), "datetime-local");
    this.to = input("search-to", t("search.to"), "datetime-local");
    const submit = el("button", { type: "submit", class: "primary", id: "search-submit", text: t("search.submit") });
    this.csv = el("a", { id: "search-csv", class: "button", href: "/api/events.csv", download: "", text: t("search.csv") });
    const form = el(
      "form",
      { class: "search-form", id: "search-form" },
      ...[this.camera, this.group, this.type, this.severity, this.className, this.rule, this.from, this.to].map(
        (part) => part.field,
      ),
      el("div", { class: "actions" }, submit, this.csv),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search();
    });
    form.addEventListener("input", () => this.updateCsvLink());
    this.message = el("p", { class: "message", hidden: true });
    this.count = el("p", { class: "count", id: "search-count" });
    this.grid = el("div", { class: "results", id: "search-results" });
    this.more = el("button", { type: "button", id: "search-more", hidden: true, text: t("search.more") });
    this.more.addEventListener("click", () => this.search(this.cursor));
    main.replaceChildren(
      el("div", { class: "toolbar" }, el("h1", { text: t("search.title") })),
      form,
      this.message,
      this.count,
      this.grid,
      el("p", {}, this.more),
    );
    this.connection.subscribe("status", null, {}, { cameras: (message) => this.onCameras(message) });
    this.updateCsvLink();
    this.search();
  }

  leave() {
    this.connection.unsubscribe("status", null);
  }

  onCameras(message) {
    const cameras = message.cameras || [];
    for (const camera of cameras) this.names.set(camera.id, camera.name);
    this.fillSelect(this.camera.element, cameras.map((c) => [c.id, c.name]));
    this.fillSelect(this.group.element, groupsOf(cameras).map((g) => [g, g]));
  }

  fillSelect(element, options) {
    const chosen = element.value;
    const wanted = ["", ...options.map(([value]) => value)].join("\n");
    const have = [...element.options].map((o) => o.value).join("\n");
    if (wanted === have) return;
    element.replaceChildren(el("option", { value: "", text: t("search.any") }));
    for (const [value, text] of options) element.append(el("option", { value, text }));
    element.value = options.some(([value]) => value === chosen) ? chosen : "";
  }

  params() {
    const params = new URLSearchParams();
    const add = (name, value) => value && params.append(name, value.trim ? value.trim() : value);
    add("camera", this.camera.element.value);
    add("group", this.group.element.value);
    add("type", this.type.element.value);
    add("severity", this.severity.element.value);
    add("class", this.className.element.value);
    add("rule", this.rule.element.value);
    add("from", isoWithOffset(this.from.element.value));
    add("to", isoWithOffset(this.to.element.value));
    return params;
  }

  updateCsvLink() {
    const query = this.params().toString();
    this.csv.href = `/api/events.csv${query ? `?${query}` : ""}`;
  }

  async search(cursor = null) {
    const params = this.params();
    if (cursor) params.set("cursor", cursor);
    this.updateCsvLink();
    this.message.hidden = true;
    let page;
    try {
      page = await api.get(`/api/events?${params}`);
    } catch (error) {
      this.message.textContent = errorText(error) + (error.code === "bad_request" ? ` (${error.message})` : "");
      this.message.hidden = false;
      return;
    }
    if (!cursor) this.grid.replaceChildren();
    for (const event of page.events) this.grid.append(this.card(event));
    this.cursor = page.next_cursor;
    this.more.hidden = !page.has_more;
    this.count.textContent = t("search.shown", { n: this.grid.children.length });
  }

  card(event) {
    const name = this.names.get(event.camera) || event.camera;
    const card = el(
      "div",
      {
        class: `result event ${event.alert ? "alert" : "info"}${event.ack ? " acknowledged" : ""}`,
        dataset: { eventId: event.id, camera: event.camera },
      },
      thumbnail(event),
      el("span", { class: "when", text: new Date(event.start_time * 1000).toLocaleString() }),
      el("strong", { class: "camera-name", text: name }),
      el("span", { class: "rule", text: event.rule }),
      el("span", { class: "details", text: eventDetails(event) }),
      ackElement(event, this.role, (ack) => card.replaceWith(this.card({ ...event, ack }))),
      playButton(event, name),
    );
    return card;
  }
}
