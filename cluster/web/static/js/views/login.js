// The login form: the same tokens as the gRPC front door.

import { api } from "../api.js";
import { el } from "../dom.js";
import { language, t } from "../i18n.js";
import { errorText } from "./common.js";

export function renderLogin(main, { message = "", onLoggedIn }) {
  const token = el("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "current-password",
    required: true,
    autofocus: true,
  });
  const status = el("p", { class: "message", role: "alert", id: "login-message", text: message });
  const submit = el("button", { type: "submit", class: "primary", id: "login-submit", text: t("login.submit") });
  const form = el(
    "form",
    { class: "login", id: "login-form" },
    el("h1", { text: t("login.title") }),
    el("label", { for: "token", text: t("login.token") }),
    token,
    el("div", { class: "actions" }, submit),
    status,
    el("p", { class: "hint", text: t("login.hint") }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.textContent = "";
    try {
      const session = await api.post("/api/login", { token: token.value, language: language() });
      token.value = "";
      onLoggedIn(session);
    } catch (error) {
      status.textContent = errorText(error);
      token.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(form);
  token.focus();
}
