// The video wall: one tile per camera the user may see, in a grid chosen by their
// number, live JPEG at the console's tile rate, state badges and optional boxes.

import { el } from "../dom.js";
import { EventFeed } from "../events.js";
import { t } from "../i18n.js";
import { Tile } from "../tile.js";
import { GroupFilter, errorText, followVisibility } from "./common.js";

const RETRY_CLOSED_MS = 5000; // a tile whose channel ended is tried again after this long

export class WallView {
  constructor({ connection, navigate, user, role }) {
    this.connection = connection;
    this.user = user;
    this.role = role;
    this.navigate = navigate;
    this.tiles = new Map();
    this.cameras = [];
    this.overlay = false;
    this.paused = document.hidden;
    this.closedAt = new Map();
  }

  enter(main) {
    this.filter = new GroupFilter(() => this.sync());
    this.count = el("span", { class: "count" });
    const overlay = el("input", { type: "checkbox", id: "overlay" });
    overlay.addEventListener("change", () => this.setOverlay(overlay.checked));
    this.banner = el("p", { class: "message", hidden: true });
    this.grid = el("div", { class: "wall", id: "wall" });
    this.empty = el("p", { class: "empty", hidden: true, text: t("wall.empty") });
    this.names = new Map();
    this.feed = new EventFeed(this.connection, { user: this.user, role: this.role, names: this.names });
    main.replaceChildren(
      el(
        "div",
        { class: "toolbar" },
        this.filter.element,
        el("label", {}, overlay, " ", t("wall.overlay")),
        this.count,
      ),
      this.banner,
      el("div", { class: "wall-layout" }, el("div", {}, this.grid, this.empty), this.feed.element),
    );
    this.feed.start();
    this.stopFollowing = followVisibility(this);
    this.connection.subscribe("status", null, {}, {
      cameras: (message) => this.onCameras(message),
    });
  }

  leave() {
    this.stopFollowing();
    this.feed.stop();
    this.connection.unsubscribe("status", null);
    for (const id of this.tiles.keys()) this.unsubscribeTile(id);
    for (const tile of this.tiles.values()) tile.picture.release();
    this.tiles.clear();
  }

  onCameras(message) {
    if (message.error) {
      this.banner.textContent = errorText(message.error);
      this.banner.hidden = false;
      return;
    }
    this.banner.hidden = true;
    this.cameras = message.cameras;
    for (const camera of this.cameras) this.names.set(camera.id, camera.name);
    this.feed.renameCameras();
    this.filter.update(this.cameras);
    this.sync();
  }

  sync() {
    const shown = this.cameras.filter((camera) => this.filter.matches(camera));
    const wanted = new Set(shown.map((camera) => camera.id));
    for (const [id, tile] of this.tiles) {
      if (!wanted.has(id)) {
        this.unsubscribeTile(id);
        tile.picture.release();
        this.tiles.delete(id);
      }
    }
    for (const camera of shown) {
      let tile = this.tiles.get(camera.id);
      if (!tile) {
        tile = new Tile(camera, (id) => this.navigate(`/camera/${encodeURIComponent(id)}`));
        this.tiles.set(camera.id, tile);
      } else {
        tile.update(camera);
      }
      this.subscribeTile(camera.id);
    }
    this.grid.replaceChildren(...shown.map((camera) => this.tiles.get(camera.id).element));
    const columns = Math.max(1, Math.ceil(Math.sqrt(shown.length)));
    const rows = Math.max(1, Math.ceil(shown.length / columns));
    this.grid.style.setProperty("--cols", String(columns));
    this.grid.style.setProperty("--rows", String(rows));
    this.grid.dataset.columns = String(columns);
    this.count.textContent = t("wall.count", { n: shown.length });
    this.empty.hidden = shown.length > 0;
  }

  subscribeTile(id) {
    const tile = this.tiles.get(id);
    if (!tile || this.paused) return;
    const closed = this.closedAt.get(id);
    if (closed && Date.now() - closed < RETRY_CLOSED_MS) return;
    const onClosed = (message) => {
      this.closedAt.set(id, Date.now());
      tile.showProblem(errorText(message));
    };
    if (!this.connection.has("frames", id)) {
      this.connection.subscribe("frames", id, { size: "tile" }, {
        frame: (header, blob) => tile.picture.frame(header, blob),
        closed: onClosed,
      });
    }
    if (this.overlay && !this.connection.has("detections", id)) {
      this.connection.subscribe("detections", id, {}, {
        detections: (message) => tile.picture.setDetections(message),
        closed: onClosed,
      });
    }
  }

  unsubscribeTile(id) {
    this.connection.unsubscribe("frames", id);
    this.connection.unsubscribe("detections", id);
  }

  setOverlay(on) {
    this.overlay = on;
    for (const [id, tile] of this.tiles) {
      tile.picture.setOverlay(on);
      if (on) this.subscribeTile(id);
      else this.connection.unsubscribe("detections", id);
    }
  }

  pause() {
    this.paused = true;
    for (const id of this.tiles.keys()) this.unsubscribeTile(id);
  }

  resume() {
    this.paused = false;
    for (const id of this.tiles.keys()) this.subscribeTile(id);
  }
}
