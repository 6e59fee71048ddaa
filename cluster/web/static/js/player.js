// Recorded footage: the player (around an event, or any moment of a camera) and the
// timeline of a camera's recordings (recorded ranges, gaps marked with their reason).
//
// What the <video> plays is a *window* of footage the front door renders with the
// privacy masks burnt in (cluster/web/playback.py): GET /api/cameras/<id>/playback?at=T
// answers the window holding T ({url, from, to, recorded, gaps}); the element fetches
// the MP4 with Range requests. Media time t of a window is wall time `from + t`. When
// a window ends, the next recorded one follows, so an event plays through.
//
// The time before an event it starts at comes from the server (server.web.playback.
// pre_event_s) and can be changed in the player (kept in this browser).

import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { errorText } from "./views/common.js";

const PRE_EVENT_KEY = "matthan.pre_event_s";
const AROUND_EVENT_S = 120; // the timeline shows this long before and after an event
const settings = { pre_event_s: 10, window_s: 30, timeline_s: 3600 };

export function setPlaybackSettings(playback) {
  Object.assign(settings, playback || {});
}

export function timelineSpan() {
  return settings.timeline_s;
}

function preEventSeconds() {
  try {
    const kept = Number(localStorage.getItem(PRE_EVENT_KEY));
    if (localStorage.getItem(PRE_EVENT_KEY) !== null && Number.isFinite(kept) && kept >= 0 && kept <= 300) return kept;
  } catch (error) {
    // storage off: the server's default
  }
  return settings.pre_event_s;
}

function keepPreEventSeconds(value) {
  try {
    localStorage.setItem(PRE_EVENT_KEY, String(value));
  } catch (error) {
    console.warn("not kept:", error.message);
  }
}

export function clockText(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function within(spans, at) {
  return spans.find((s) => s.start <= at && at < s.end) || null;
}

// The timeline of [from, to): recorded ranges, gaps (striped, reason on hover and listed
// below), an event mark and the playing position; a click calls onSeek(wall time).
export class Timeline {
  constructor(onSeek) {
    this.onSeek = onSeek;
    this.bar = el("div", { class: "timeline", id: "timeline", role: "slider", "aria-label": t("playback.timeline") });
    this.cursor = el("span", { class: "cursor", hidden: true });
    this.labels = el("div", { class: "timeline-labels" });
    this.gapList = el("ul", { class: "gap-list", id: "gap-list" });
    this.element = el("div", { class: "timeline-box" }, this.bar, this.labels, this.gapList);
    this.data = null;
    this.bar.addEventListener("click", (click) => {
      if (!this.data) return;
      const box = this.bar.getBoundingClientRect();
      const share = Math.min(Math.max((click.clientX - box.left) / box.width, 0), 1);
      this.onSeek(this.data.from + share * (this.data.to - this.data.from));
    });
  }

  async load(camera, from, to) {
    const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    this.data = await api.get(`/api/cameras/${encodeURIComponent(camera)}/recordings?${query}`);
    this.draw();
    return this.data;
  }

  place(element, start, end) {
    const span = this.data.to - this.data.from;
    const left = Math.max(0, (start - this.data.from) / span);
    const right = Math.min(1, (end - this.data.from) / span);
    element.style.left = `${left * 100}%`;
    element.style.width = `${Math.max(right - left, 0.003) * 100}%`;
    return element;
  }

  draw() {
    const { ranges, gaps } = this.data;
    this.bar.dataset.from = String(this.data.from);
    this.bar.dataset.to = String(this.data.to);
    const parts = [
      ...ranges.map((r) =>
        this.place(el("span", { class: "range", title: `${clockText(r.start)} – ${clockText(r.end)}` }), r.start, r.end),
      ),
      ...gaps.map((g) =>
        this.place(
          el("span", { class: "gap", title: t("playback.gap", { reason: g.reason }), dataset: { reason: g.reason } }),
          g.start,
          g.end,
        ),
      ),
    ];
    if (this.mark !== undefined) {
      parts.push(this.place(el("span", { class: "event-mark", title: t("playback.event") }), this.mark, this.mark));
    }
    this.bar.replaceChildren(...parts, this.cursor);
    this.labels.replaceChildren(
      el("span", { text: clockText(this.data.from) }),
      el("span", { text: ranges.length ? "" : t("playback.nothing") }),
      el("span", { text: clockText(this.data.to) }),
    );
    this.gapList.replaceChildren(
      ...gaps.map((g) =>
        el("li", { class: "gap-item", text: `${clockText(g.start)} – ${clockText(g.end)}: ${t("playback.gap", { reason: g.reason })}` }),
      ),
    );
  }

  markEvent(at) {
    this.mark = at;
    if (this.data) this.draw();
  }

  show(at) {
    if (!this.data || at < this.data.from || at > this.data.to) {
      this.cursor.hidden = true;
      return;
    }
    this.cursor.hidden = false;
    this.cursor.style.left = `${((at - this.data.from) / (this.data.to - this.data.from)) * 100}%`;
  }

  // The first recorded moment at or after `at` (null: nothing later in the timeline).
  nextRecorded(at) {
    if (!this.data) return null;
    const range = this.data.ranges.find((r) => r.end > at);
    return range ? Math.max(range.start, at) : null;
  }
}

// A <video> of masked windows with its timeline. `camera`: id; `name`: shown.
export class Player {
  constructor(camera, name) {
    this.camera = camera;
    this.name = name;
    this.window = null;
    this.token = 0;
    this.video = el("video", { id: "playback-video", controls: true, muted: true, playsinline: true, preload: "auto" });
    this.video.muted = true; // cameras have no sound; muted also lets a page start playing by itself
    this.clock = el("span", { class: "playback-clock", id: "playback-clock" });
    this.message = el("p", { class: "message", id: "playback-message", hidden: true });
    this.gapNotice = el("p", { class: "gap-notice", id: "gap-notice", hidden: true });
    this.timeline = new Timeline((at) => this.play(at));
    this.preEvent = el("input", { type: "number", id: "pre-event", min: 0, max: 300, step: 1 });
    this.preEvent.value = String(preEventSeconds());
    this.preEvent.addEventListener("change", () => {
      const value = Math.min(Math.max(Number(this.preEvent.value) || 0, 0), 300);
      this.preEvent.value = String(value);
      keepPreEventSeconds(value);
      if (this.event) this.play(this.event.start_time - value);
    });
    this.preEventLabel = el("label", { class: "pre-event", hidden: true }, t("playback.pre_event"), " ", this.preEvent);
    this.element = el(
      "section",
      { class: "player", id: "player", dataset: { camera } },
      el("div", { class: "stage" }, this.video, this.gapNotice),
      el("div", { class: "player-bar" }, this.clock, this.preEventLabel),
      this.message,
      this.timeline.element,
    );
    this.video.addEventListener("timeupdate", () => this.moved());
    this.video.addEventListener("ended", () => this.next());
    this.video.addEventListener("error", () => this.say(t("playback.cannot_play")));
  }

  // Around an event: from pre_event_s before it, with the timeline around it.
  async playEvent(event) {
    this.event = event;
    this.preEventLabel.hidden = false;
    const start = event.start_time - Number(this.preEvent.value);
    const end = event.end_time || event.start_time;
    this.timeline.markEvent(event.start_time);
    await this.loadTimeline(start - AROUND_EVENT_S, end + AROUND_EVENT_S);
    await this.play(start);
  }

  async loadTimeline(from, to) {
    try {
      await this.timeline.load(this.camera, from, to);
    } catch (error) {
      this.say(errorText(error));
    }
  }

  // Play from wall time `at`: the window holding it (rendered by the server if needed).
  async play(at) {
    const token = ++this.token;
    this.element.dataset.start = String(at);
    this.say("");
    this.clock.textContent = `${clockText(at)} · ${t("playback.loading")}`;
    let window;
    try {
      window = await api.get(`/api/cameras/${encodeURIComponent(this.camera)}/playback?at=${encodeURIComponent(at)}`);
    } catch (error) {
      if (token !== this.token) return;
      if (error.code === "no_recording") {
        const later = this.timeline.nextRecorded(at);
        if (later !== null && later > at) {
          this.say(t("playback.skipped_gap"));
          this.play(later);
          return;
        }
      }
      this.video.pause(); // what it showed is not the moment asked for
      this.clock.textContent = clockText(at);
      this.say(error.code === "no_recording" ? t("error.no_recording") : errorText(error));
      return;
    }
    if (token !== this.token) return;
    this.window = window;
    const offset = Math.max(0, at - window.from);
    const seek = () => {
      this.video.currentTime = offset;
      const playing = this.video.play();
      if (playing) playing.catch((error) => console.warn("not playing:", error.message));
    };
    if (this.video.getAttribute("src") === window.url) seek();
    else {
      this.video.addEventListener("loadedmetadata", seek, { once: true });
      this.video.src = window.url;
    }
    this.element.dataset.window = String(window.from);
  }

  // The window ended: the next recorded moment after it, if the timeline has one.
  next() {
    if (!this.window) return;
    const later = this.timeline.nextRecorded(this.window.to);
    if (later !== null) this.play(later);
    else this.say(t("playback.end"));
  }

  moved() {
    if (!this.window) return;
    const at = this.window.from + this.video.currentTime;
    this.clock.textContent = `${this.name} · ${new Date(at * 1000).toLocaleString()}`;
    this.element.dataset.at = String(at);
    this.timeline.show(at);
    const gap = within(this.window.gaps, at) || (this.timeline.data && within(this.timeline.data.gaps, at));
    this.gapNotice.hidden = !gap;
    if (gap) this.gapNotice.textContent = t("playback.gap", { reason: gap.reason });
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  stop() {
    this.token++;
    this.video.pause();
    this.video.removeAttribute("src");
    this.video.load();
  }
}

let open = null;

// The player over any page, for an event (feed, search, camera view).
export function openEventPlayer(event, name) {
  closePlayer();
  const player = new Player(event.camera, name || event.camera);
  const close = el("button", { type: "button", class: "plain", id: "close-player", text: t("playback.close") });
  const dialog = el(
    "div",
    { class: "player-dialog", id: "player-dialog", role: "dialog", "aria-label": t("playback.title") },
    el(
      "div",
      { class: "panel player-panel" },
      el("div", { class: "feed-head" }, el("h2", { text: `${t("playback.title")} · ${name || event.camera}` }), close),
      player.element,
    ),
  );
  close.addEventListener("click", closePlayer);
  document.body.append(dialog);
  open = { player, dialog };
  player.playEvent(event);
  return player;
}

export function closePlayer() {
  if (!open) return;
  open.player.stop();
  open.dialog.remove();
  open = null;
}

// The "play" control of an event (rows of the feed, search results).
export function playButton(event, name) {
  const button = el("button", { type: "button", class: "play", text: `▶ ${t("playback.play")}` });
  button.addEventListener("click", (click) => {
    click.stopPropagation();
    openEventPlayer(event, name);
  });
  return button;
}
