// A camera's zones, lines and privacy masks drawn as SVG over its picture. Shapes are
// in the config's normalised coordinates (0..1, y down); the SVG's viewBox is the
// frame's size in pixels with "meet", so it lines up with a canvas or image shown with
// object-fit: contain. No inline styles (CSP): presentation is in attributes and CSS.

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

function text(x, y, content, cls) {
  const label = svg("text", { x, y, class: cls });
  label.textContent = content;
  return label;
}

export class ShapesOverlay {
  constructor(id = null) {
    this.width = 16;
    this.height = 9;
    this.geometry = { zones: [], lines: [], masks: null };
    this.draft = null; // the editor's shape being drawn: {kind, points}
    this.element = svg("svg", { class: "shapes", id, viewBox: "0 0 16 9", preserveAspectRatio: "xMidYMid meet" });
  }

  size(width, height) {
    if (!width || !height || (width === this.width && height === this.height)) return;
    this.width = width;
    this.height = height;
    this.element.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.redraw();
  }

  draw(geometry) {
    this.geometry = geometry;
    this.redraw();
  }

  points(list) {
    return list.map(([x, y]) => `${(x * this.width).toFixed(1)},${(y * this.height).toFixed(1)}`).join(" ");
  }

  redraw() {
    const { zones = [], lines = [], masks = null } = this.geometry;
    const font = Math.max(10, this.height * 0.035);
    this.element.replaceChildren();
    const layer = svg("g", { "font-size": font.toFixed(1) });
    for (const mask of masks || []) {
      layer.append(svg("polygon", { class: "mask", points: this.points(mask), "vector-effect": "non-scaling-stroke" }));
    }
    for (const zone of zones) {
      const [x, y] = zone.polygon[0];
      layer.append(
        svg("polygon", {
          class: `zone ${zone.severity || "info"}`,
          points: this.points(zone.polygon),
          "vector-effect": "non-scaling-stroke",
          "data-name": zone.name,
        }),
        text(x * this.width + 4, y * this.height + font + 2, zone.name, "label"),
      );
    }
    for (const line of lines) layer.append(...this.line(line, font));
    if (this.draft && this.draft.points.length) {
      const shape = this.draft.points.length > 2 ? "polygon" : "polyline";
      layer.append(svg(shape, { class: `draft ${this.draft.kind}`, points: this.points(this.draft.points) }));
      for (const [x, y] of this.draft.points) {
        layer.append(svg("circle", { class: "vertex", cx: x * this.width, cy: y * this.height, r: font * 0.3 }));
      }
    }
    this.element.append(layer);
  }

  line(line, font) {
    const [x1, y1] = [line.start[0] * this.width, line.start[1] * this.height];
    const [x2, y2] = [line.end[0] * this.width, line.end[1] * this.height];
    const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
    const length = Math.hypot(x2 - x1, y2 - y1) || 1;
    // On screen (y down) the left of start -> end is (dy, -dx); the A side is that one or the other.
    let [nx, ny] = [(y2 - y1) / length, -(x2 - x1) / length];
    if (line.a_side === "right") [nx, ny] = [-nx, -ny];
    const off = font * 1.2;
    return [
      svg("line", { class: "line", x1, y1, x2, y2, "vector-effect": "non-scaling-stroke", "data-name": line.name }),
      text(mx + nx * off, my + ny * off, "A", "side"),
      text(mx - nx * off, my - ny * off, "B", "side"),
      text(x1 + 4, y1 - 4, line.name, "label"),
    ];
  }

  // Where a click lands, normalised (null outside the picture).
  at(event) {
    const box = this.element.getBoundingClientRect();
    const scale = Math.min(box.width / this.width, box.height / this.height);
    const left = box.left + (box.width - this.width * scale) / 2;
    const top = box.top + (box.height - this.height * scale) / 2;
    const x = (event.clientX - left) / (this.width * scale);
    const y = (event.clientY - top) / (this.height * scale);
    if (x < 0 || x > 1 || y < 0 || y > 1) return null;
    return [Math.round(x * 10000) / 10000, Math.round(y * 10000) / 10000];
  }
}
