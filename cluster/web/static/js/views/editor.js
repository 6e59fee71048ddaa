// The zone and mask editor (operators): draw zones, counting lines and privacy masks on
// a snapshot of the camera, name them, and save. The save goes through UpdateCamera's
// path on the server (POST /api/cameras/<id>/zones, validated as the gateway does), and
// the camera applies it live; a rule keeps its other settings (filters, loitering...).
//
// Drawing: pick the kind, click the picture to add points; a line is done after two,
// a zone or mask with "Finish shape" (at least three points) or a double click.

import { api } from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { ShapesOverlay } from "../shapes.js";
import { errorPage, errorText } from "./common.js";

const KINDS = ["zone", "line", "mask"];

function uniqueName(prefix, taken) {
  let n = 1;
  while (taken.has(`${prefix}-${n}`)) n += 1;
  return `${prefix}-${n}`;
}

export class EditorView {
  constructor({ navigate, role }, cameraId) {
    this.navigate = navigate;
    this.role = role;
    this.id = cameraId;
    this.left = false;
    this.kind = "zone";
  }

  async enter(main) {
    main.replaceChildren(el("p", { class: "loading", text: "…" }));
    let camera, geometry;
    try {
      [camera, geometry] = await Promise.all([
        api.get(`/api/cameras/${encodeURIComponent(this.id)}`),
        api.get(`/api/cameras/${encodeURIComponent(this.id)}/zones`),
      ]);
    } catch (error) {
      if (!this.left) main.replaceChildren(errorPage(error.status || 503, error));
      return;
    }
    if (this.left) return;
    if (this.role !== "operator" && this.role !== "admin") {
      main.replaceChildren(errorPage(403, { code: "permission_denied", message: "operator role needed" }));
      return;
    }
    this.geometry = { zones: geometry.zones, lines: geometry.lines, masks: geometry.masks || [] };
    this.shapes = new ShapesOverlay("editor-shapes");
    this.shapes.draft = { kind: this.kind, points: [] };
    this.image = el("img", {
      id: "editor-snapshot",
      alt: "",
      src: `/api/cameras/${encodeURIComponent(this.id)}/snapshot?width=1280`,
    });
    this.image.addEventListener("load", () => this.shapes.size(this.image.naturalWidth, this.image.naturalHeight));
    this.shapes.element.addEventListener("click", (event) => this.click(event));
    this.shapes.element.addEventListener("dblclick", (event) => {
      event.preventDefault();
      this.finish();
    });
    const kinds = el(
      "div",
      { class: "kinds", role: "radiogroup" },
      KINDS.map((kind) => {
        const radio = el("input", { type: "radio", name: "kind", value: kind, id: `kind-${kind}`, checked: kind === this.kind });
        radio.addEventListener("change", () => this.setKind(kind));
        return el("label", {}, radio, " ", t(`editor.${kind}`));
      }),
    );
    const button = (id, key, action, cls = "") => {
      const b = el("button", { type: "button", id, class: cls, text: t(key) });
      b.addEventListener("click", action);
      return b;
    };
    this.message = el("p", { class: "message", id: "editor-message", hidden: true });
    this.list = el("ul", { class: "shape-list", id: "editor-shapes-list" });
    main.replaceChildren(
      el(
        "p",
        {},
        el("a", { href: `/camera/${encodeURIComponent(this.id)}`, dataset: { route: "" }, text: t("editor.back") }),
      ),
      el("h1", { text: `${t("editor.title")}: ${camera.name}` }),
      el(
        "div",
        { class: "toolbar" },
        kinds,
        button("editor-finish", "editor.finish", () => this.finish()),
        button("editor-undo", "editor.undo", () => this.undo()),
        button("editor-save", "editor.save", () => this.save(), "primary"),
      ),
      el("p", { class: "hint", text: t("editor.hint") }),
      this.message,
      el(
        "div",
        { class: "editor" },
        el("div", { class: "stage editor-stage" }, this.image, this.shapes.element),
        el("aside", { class: "panel" }, el("h2", { text: t("editor.shapes") }), this.list),
      ),
    );
    this.render();
  }

  leave() {
    this.left = true;
  }

  setKind(kind) {
    this.kind = kind;
    this.shapes.draft = { kind, points: [] };
    this.render();
  }

  click(event) {
    const point = this.shapes.at(event);
    if (!point) return;
    this.shapes.draft.points.push(point);
    if (this.kind === "line" && this.shapes.draft.points.length === 2) {
      this.finish();
      return;
    }
    this.render();
  }

  undo() {
    this.shapes.draft.points.pop();
    this.render();
  }

  finish() {
    const points = this.shapes.draft.points;
    const taken = new Set([...this.geometry.zones, ...this.geometry.lines].map((s) => s.name));
    if (this.kind === "line" && points.length === 2) {
      this.geometry.lines.push({ name: uniqueName("vach", taken), start: points[0], end: points[1] });
    } else if (this.kind !== "line" && points.length >= 3) {
      if (this.kind === "zone") this.geometry.zones.push({ name: uniqueName("vung", taken), polygon: [...points] });
      else this.geometry.masks.push([...points]);
    } else {
      this.say(t("editor.too_few"), true);
      return;
    }
    this.shapes.draft = { kind: this.kind, points: [] };
    this.render();
  }

  render() {
    this.shapes.draw(this.geometry);
    const rows = [];
    const entry = (kind, shape, index, list) => {
      const remove = el("button", { type: "button", class: "plain remove", text: "✕", title: t("editor.remove") });
      remove.addEventListener("click", () => {
        list.splice(index, 1);
        this.render();
      });
      let label;
      if (kind === "mask") {
        label = el("span", { text: `${t("editor.mask")} ${index + 1}` });
      } else {
        label = el("input", { type: "text", value: shape.name, class: "shape-name", dataset: { kind, index: String(index) } });
        label.addEventListener("change", () => {
          shape.name = label.value.trim();
          this.shapes.draw(this.geometry); // the list stays: the input keeps its focus
        });
      }
      return el("li", { dataset: { kind } }, el("span", { class: `kind ${kind}`, text: t(`editor.${kind}`) }), label, remove);
    };
    this.geometry.zones.forEach((zone, i, list) => rows.push(entry("zone", zone, i, list)));
    this.geometry.lines.forEach((line, i, list) => rows.push(entry("line", line, i, list)));
    this.geometry.masks.forEach((mask, i, list) => rows.push(entry("mask", mask, i, list)));
    this.list.replaceChildren(...rows);
  }

  say(text, bad = false) {
    this.message.textContent = text;
    this.message.classList.toggle("ok", !bad);
    this.message.hidden = false;
  }

  async save() {
    const body = {
      zones: this.geometry.zones.map(({ name, polygon, severity }) => ({ name, polygon, ...(severity ? { severity } : {}) })),
      lines: this.geometry.lines.map(({ name, start, end, severity, a_side }) => ({
        name,
        start,
        end,
        ...(severity ? { severity } : {}),
        ...(a_side ? { a_side } : {}),
      })),
      masks: this.geometry.masks,
    };
    try {
      const saved = await api.post(`/api/cameras/${encodeURIComponent(this.id)}/zones`, body);
      this.geometry = { zones: saved.zones, lines: saved.lines, masks: saved.masks || [] };
      this.render();
      this.say(t("editor.saved"));
    } catch (error) {
      this.say(error.code === "bad_request" ? `${t("editor.invalid")} ${error.message}` : errorText(error), true);
    }
  }
}
