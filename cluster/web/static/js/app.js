// The console's entry point: the session, the header, the router and the one WebSocket.
//
// Routes (the server answers each with this page): "/" the wall (with the live events
// beside it), "/health" camera health, "/events" the live events, "/camera/<id>" one
// camera (its zones drawn), "/search" event search with CSV export, "/editor/<id>" the
// zone and mask editor (operators).

import { api, setCsrfToken } from "./api.js";
import { clear, el } from "./dom.js";
import { LANGUAGES, language, setLanguage, t } from "./i18n.js";
import { closePlayer, setPlaybackSettings } from "./player.js";
import { Connection } from "./socket.js";
import { CameraView } from "./views/camera.js";
import { errorPage } from "./views/common.js";
import { EditorView } from "./views/editor.js";
import { EventsView } from "./views/events.js";
import { HealthView } from "./views/health.js";
import { renderLogin } from "./views/login.js";
import { SearchView } from "./views/search.js";
import { WallView } from "./views/wall.js";

const main = document.getElementById("view");
const bar = document.getElementById("bar");
const state = { session: null, connection: null, view: null };

function cookieLanguage() {
  const match = document.cookie.match(/(?:^|;\s*)matthan_lang=(\w+)/);
  return match && LANGUAGES.includes(match[1]) ? match[1] : "vi";
}

function viewFor(path) {
  const { name, role } = state.session.user;
  const context = { connection: state.connection, navigate, user: name, role };
  if (path === "/" || path === "") return new WallView(context);
  if (path === "/health") return new HealthView(context);
  if (path === "/events") return new EventsView(context);
  if (path === "/search") return new SearchView(context);
  const camera = path.match(/^\/camera\/([^/]+)$/);
  if (camera) return new CameraView(context, decodeURIComponent(camera[1]));
  const editor = path.match(/^\/editor\/([^/]+)$/);
  if (editor) return new EditorView(context, decodeURIComponent(editor[1]));
  return { enter: (m) => m.replaceChildren(errorPage(404, { code: "not_found", message: path })), leave() {} };
}

function route() {
  closePlayer();
  if (state.view) state.view.leave();
  state.view = null;
  if (!state.session) return;
  const path = location.pathname;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", new URL(link.href).pathname === path);
  }
  state.view = viewFor(path);
  state.view.enter(main);
}

function navigate(path) {
  if (path !== location.pathname) history.pushState({}, "", path);
  route();
}

function showUser(session) {
  const user = document.getElementById("user");
  const role = t(`role.${session.user.role}`);
  user.textContent = session.user.name === "anonymous" ? t("user.anonymous") : `${session.user.name} · ${role}`;
  document.getElementById("language").textContent = t("language.other");
  document.getElementById("logout").hidden = session.user.name === "anonymous";
}

function startSession(session) {
  state.session = session;
  setCsrfToken(session.csrf_token);
  setPlaybackSettings(session.playback);
  setLanguage(session.language);
  bar.hidden = false;
  showUser(session);
  if (state.connection) state.connection.stop();
  state.connection = new Connection({
    onSessionEnded: () => endSession(t("error.unauthenticated")),
    onConnectionChange: (up) => {
      const notice = document.getElementById("connection");
      notice.textContent = up ? "" : t("connection.lost");
      notice.hidden = up;
      if (!up) checkSession();
    },
  });
  state.connection.open();
  route();
}

// The socket dropped: a restarted front door has forgotten the session (the socket's
// handshake is then refused, which a page cannot tell from a network error).
async function checkSession() {
  let session;
  try {
    session = await api.get("/api/session");
  } catch (error) {
    return; // the server is not answering yet: the socket keeps retrying
  }
  if (!state.session) return;
  if (!session.authenticated || session.user.name !== state.session.user.name) {
    endSession(t("error.unauthenticated"));
    return;
  }
  state.session = session; // the no-token mode made a new session: its CSRF token
  setCsrfToken(session.csrf_token);
}

function endSession(message) {
  closePlayer();
  if (state.view) state.view.leave();
  state.view = null;
  if (state.connection) state.connection.stop();
  state.connection = null;
  state.session = null;
  setCsrfToken(null);
  bar.hidden = true;
  boot(message);
}

function showLogin(message) {
  document.getElementById("language").textContent = t("language.other");
  clear(main);
  const switcher = el("button", { type: "button", class: "plain", id: "login-language", text: t("language.other") });
  switcher.addEventListener("click", () => switchLanguage().then(() => showLogin(message)));
  renderLogin(main, { message, onLoggedIn: startSession });
  main.prepend(el("p", { class: "toolbar" }, switcher));
}

async function switchLanguage() {
  const next = language() === "vi" ? "en" : "vi";
  try {
    await api.post("/api/language", { language: next });
  } catch (error) {
    console.warn("language not saved:", error.message);
  }
  setLanguage(next);
  if (state.session) {
    state.session.language = next;
    showUser(state.session);
    route();
  }
}

async function boot(message = "") {
  let session;
  try {
    session = await api.get("/api/session");
  } catch (error) {
    main.replaceChildren(errorPage(error.status || 503, error));
    return;
  }
  setLanguage(session.language || cookieLanguage());
  if (session.authenticated) startSession(session);
  else showLogin(message);
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-route]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(new URL(link.href).pathname);
});
window.addEventListener("popstate", route);
document.getElementById("language").addEventListener("click", () => switchLanguage());
document.getElementById("logout").addEventListener("click", async () => {
  try {
    await api.post("/api/logout");
  } finally {
    endSession("");
  }
});

setLanguage(cookieLanguage());
boot();
