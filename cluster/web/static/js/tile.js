// A camera picture on a canvas: the newest frame, and over it the newest detection
// boxes with class and track labels. Frames are decoded off the main thread
// (createImageBitmap); a frame that arrives while one is decoding replaces it.

import { el } from "./dom.js";
import { stateLabel } from "./i18n.js";

const OVERLAY_MAX_SKEW_S = 2.0; // boxes older than this next to the frame are not drawn
const COLOURS = ["#ff6b6b", "#ffd43b", "#69db7c", "#4dabf7", "#da77f2", "#ffa94d", "#63e6be"];

function colourOf(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return COLOURS[hash % COLOURS.length];
}

export class Picture {
  constructor(canvas) {
    this.canvas = canvas;
    this.bitmap = null;
    this.capture = 0;
    this.detections = null;
    this.overlay = false;
    this.frames = 0;
  }

  async frame(header, blob) {
    const bitmap = await createImageBitmap(blob);
    if (this.bitmap) this.bitmap.close();
    this.bitmap = bitmap;
    this.capture = header.capture_time;
    this.frames += 1;
    this.canvas.dataset.frames = String(this.frames);
    this.canvas.dataset.frameSequence = String(header.frame_sequence);
    this.draw();
  }

  setDetections(message) {
    this.detections = message;
    this.draw();
  }

  setOverlay(on) {
    this.overlay = on;
    if (!on) this.detections = null;
    this.draw();
  }

  draw() {
    const bitmap = this.bitmap;
    if (!bitmap) return;
    const canvas = this.canvas;
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    const batch = this.detections;
    const shown = this.overlay && batch && Math.abs(batch.capture_time - this.capture) <= OVERLAY_MAX_SKEW_S;
    canvas.dataset.boxes = String(shown ? batch.detections.length : 0);
    if (!shown) return;
    const w = canvas.width;
    const h = canvas.height;
    ctx.lineWidth = Math.max(2, w / 320);
    ctx.font = `${Math.max(11, Math.round(w / 40))}px sans-serif`;
    ctx.textBaseline = "bottom";
    for (const d of batch.detections) {
      const [x, y, bw, bh] = d.box;
      const colour = colourOf(d.class);
      ctx.strokeStyle = colour;
      ctx.strokeRect(x * w, y * h, bw * w, bh * h);
      const label = d.track === null || d.track === undefined ? d.class : `${d.class} #${d.track}`;
      const width = ctx.measureText(label).width + 6;
      const size = parseInt(ctx.font, 10) + 4;
      const top = Math.max(size, y * h);
      ctx.fillStyle = colour;
      ctx.fillRect(x * w, top - size, width, size);
      ctx.fillStyle = "#000";
      ctx.fillText(label, x * w + 3, top - 1);
    }
  }

  release() {
    if (this.bitmap) this.bitmap.close();
    this.bitmap = null;
  }
}

export function badge(state) {
  return el("span", { class: `badge ${state}`, dataset: { state }, text: stateLabel(state) });
}

export class Tile {
  constructor(camera, onOpen) {
    this.id = camera.id;
    this.canvas = el("canvas", { width: 16, height: 9, dataset: { camera: camera.id } });
    this.picture = new Picture(this.canvas);
    this.name = el("span", { class: "name" });
    this.badgeSlot = el("span");
    this.reason = el("div", { class: "reason", hidden: true });
    this.element = el(
      "div",
      { class: "tile", dataset: { camera: camera.id }, role: "link", tabindex: "0" },
      this.canvas,
      this.reason,
      el("div", { class: "caption" }, this.name, this.badgeSlot),
    );
    this.element.addEventListener("click", () => onOpen(this.id));
    this.element.addEventListener("keydown", (event) => {
      if (event.key === "Enter") onOpen(this.id);
    });
    this.update(camera);
  }

  update(camera) {
    this.name.textContent = camera.name;
    this.name.title = `${camera.name} (${camera.id})`;
    this.badgeSlot.replaceChildren(badge(camera.state));
    this.element.dataset.state = camera.state;
    const reason = camera.state === "live" ? "" : camera.reason || "";
    this.reason.textContent = reason;
    this.reason.hidden = !reason;
  }

  showProblem(text) {
    this.reason.textContent = text;
    this.reason.hidden = false;
  }
}
