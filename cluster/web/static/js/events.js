// The live events feed: a panel beside the wall, the one-camera view and on /events.
// It is an "events" channel of the page's socket (cluster/web/event_channel.py): the
// server sends the recent events first, then each event as it is stored or updated;
// a message's `lost` says how many it had to leave out (the page was not reading).
// Alerts are highlighted and, if the user turned the sound on, ring a short tone made
// with the Web Audio API (no sound file to download; off by default, kept per user in
// this browser). Operators and admins acknowledge an alert with its button: the front
// door records who and when, and every open feed shows it acknowledged (`acks`).

import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { playButton } from "./player.js";
import { errorText } from "./views/common.js";

const SOUND_KEY = "matthan.alert_sound.";
let audio = null;

export function soundOn(user) {
  try {
    return localStorage.getItem(SOUND_KEY + user) === "on";
  } catch (error) {
    return false;
  }
}

function setSound(user, on) {
  try {
    localStorage.setItem(SOUND_KEY + user, on ? "on" : "off");
  } catch (error) {
    console.warn("alert sound setting not kept:", error.message);
  }
  if (on && !audio && window.AudioContext) audio = new AudioContext(); // made on a click: browsers allow it
}

// Two short tones, 880 Hz then 660 Hz, 0.45 s in all.
export function ring() {
  if (!audio && window.AudioContext) audio = new AudioContext();
  if (!audio) return;
  if (audio.state === "suspended") audio.resume();
  const start = audio.currentTime;
  [880, 660].forEach((frequency, i) => {
    const at = start + i * 0.22;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(at);
    oscillator.stop(at + 0.21);
  });
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function typeLabel(type) {
  const key = `type.${type}`;
  const text = t(key);
  return text === key ? type : text;
}

// The lines of text describing an event (the search grid uses them too).
export function eventDetails(event) {
  const parts = [typeLabel(event.type)];
  if (event.class) parts.push(event.class);
  if (event.direction) parts.push(t(`direction.${event.direction}`));
  if (event.dwell_s !== null && event.dwell_s !== undefined) parts.push(t("events.dwell", { s: event.dwell_s }));
  if (event.count !== null && event.count !== undefined) parts.push(t("events.count", { n: event.count }));
  return parts.join(" · ");
}

export function thumbnail(event) {
  const image = el("img", {
    class: "thumb",
    alt: "",
    loading: "lazy",
    src: `/api/events/${encodeURIComponent(event.id)}/thumbnail`,
  });
  image.addEventListener("error", () => image.classList.add("missing")); // an event without a picture
  return image;
}

export function mayAcknowledge(role) {
  return role === "operator" || role === "admin";
}

// "Acknowledged by X at 14:02:11", or, for an operator, the button that does it.
export function ackElement(event, role, onAcknowledged) {
  if (event.ack) {
    return el("span", { class: "acked", text: t("events.acked", { who: event.ack.by, when: clock(event.ack.at) }) });
  }
  if (!event.alert || !mayAcknowledge(role)) return null;
  const button = el("button", { type: "button", class: "ack", text: t("events.acknowledge") });
  button.addEventListener("click", async (click) => {
    click.stopPropagation();
    button.disabled = true;
    try {
      onAcknowledged(await api.post(`/api/events/${encodeURIComponent(event.id)}/ack`));
    } catch (error) {
      button.disabled = false;
      button.title = errorText(error);
      button.textContent = `${t("events.acknowledge")} ⚠`;
    }
  });
  return button;
}

export class EventFeed {
  // camera: one camera's events (null: every camera the user may see); names: camera id -> name.
  constructor(
    connection,
    { camera = null, user = "", role = "viewer", limit = 50, names = new Map(), title = t("events.title") },
  ) {
    this.connection = connection;
    this.camera = camera;
    this.user = user;
    this.role = role;
    this.limit = limit;
    this.names = names;
    this.rows = new Map(); // event id -> {event, element}
    this.list = el("ol", { class: "events", id: camera ? "camera-events" : "events" });
    this.empty = el("p", { class: "empty-feed", text: t("events.none") });
    this.notice = el("p", { class: "message", hidden: true });
    const sound = el("input", { type: "checkbox", id: camera ? "camera-alert-sound" : "alert-sound" });
    sound.checked = soundOn(user);
    sound.addEventListener("change", () => setSound(user, sound.checked));
    this.element = el(
      "section",
      { class: "panel feed", dataset: { camera: camera || "" } },
      el("div", { class: "feed-head" }, el("h2", { text: title }), el("label", {}, sound, " ", t("events.sound"))),
      this.notice,
      this.empty,
      this.list,
    );
  }

  start() {
    this.connection.subscribe("events", this.camera, {}, {
      events: (message) => this.onEvents(message),
      closed: (message) => {
        this.notice.textContent = message.code === "unavailable" ? t("events.unavailable") : message.message;
        this.notice.hidden = false;
      },
    });
  }

  stop() {
    this.connection.unsubscribe("events", this.camera);
  }

  onEvents(message) {
    let ringNow = false;
    for (const event of message.events) {
      const known = this.rows.get(event.id);
      if (!known && event.alert && !message.recent) ringNow = true;
      this.put(event);
    }
    for (const ack of message.acks || []) this.acknowledged(ack);
    if (message.lost) {
      this.notice.textContent = t("events.lost", { n: message.lost });
      this.notice.hidden = false;
    }
    while (this.list.children.length > this.limit) {
      const last = this.list.lastElementChild;
      this.rows.delete(last.dataset.eventId);
      last.remove();
    }
    this.empty.hidden = this.rows.size > 0;
    if (ringNow && soundOn(this.user)) ring();
  }

  acknowledged(ack) {
    const known = this.rows.get(ack.event_id);
    if (known) this.put({ ...known.event, ack });
  }

  put(event) {
    const row = this.row(event);
    const known = this.rows.get(event.id);
    if (known) known.element.replaceWith(row);
    else this.list.prepend(row); // the newest on top
    this.rows.set(event.id, { event, element: row });
  }

  row(event) {
    const name = this.names.get(event.camera) || event.camera;
    const when = event.end_time ? clock(event.start_time) : `${clock(event.start_time)} · ${t("events.ongoing")}`;
    return el(
      "li",
      {
        class: `event ${event.alert ? "alert" : "info"}${event.ack ? " acknowledged" : ""}`,
        dataset: { eventId: event.id, camera: event.camera, severity: event.severity },
      },
      thumbnail(event),
      el(
        "div",
        { class: "what" },
        el("span", { class: "when", text: when }),
        el("span", { class: "badge severity", text: event.alert ? t("events.alert") : t("events.info") }),
        el("strong", { class: "camera-name", text: name }),
        el("span", { class: "rule", text: event.rule }),
        el("span", { class: "details", text: eventDetails(event) }),
        ackElement(event, this.role, (ack) => this.acknowledged(ack)),
        playButton(event, name),
      ),
    );
  }

  renameCameras() {
    for (const { event, element } of this.rows.values()) {
      element.querySelector(".camera-name").textContent = this.names.get(event.camera) || event.camera;
    }
  }
}
