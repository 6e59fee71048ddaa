// Pieces the views share: error texts, number formats, the group filter, pausing
// the pictures while the tab is hidden.

import { el } from "../dom.js";
import { t } from "../i18n.js";

export function errorText(error) {
  const code = error.code || "internal";
  if (code === "rate_limited") {
    return error.retryAfter ? t("error.rate_limited", { seconds: error.retryAfter }) : t("error.rate_limited_channel");
  }
  const key = `error.${code}`;
  const text = t(key);
  return text === key ? t("error.generic", { message: error.message || code }) : text;
}

export function errorPage(status, error) {
  return el(
    "div",
    { class: "error-page", dataset: { status: String(status), code: error.code || "" } },
    el("p", { class: "status", text: String(status) }),
    el("p", { class: "detail", text: errorText(error) }),
    el("p", {}, el("a", { href: "/", dataset: { route: "" }, text: t("camera.back") })),
  );
}

export function number(value, digits = 1) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
}

export function milliseconds(seconds) {
  return seconds === null || seconds === undefined ? "—" : String(Math.round(seconds * 1000));
}

// Ray node ids are 56 hex digits: show the start, the whole id on hover.
export function nodeLabel(node) {
  if (!node) return "—";
  return el("span", { title: node, text: node.length > 12 ? `${node.slice(0, 12)}…` : node });
}

export function groupsOf(cameras) {
  return [...new Set(cameras.flatMap((c) => c.groups))].sort();
}

export class GroupFilter {
  constructor(onChange) {
    this.value = "";
    this.select = el("select", { "aria-label": t("wall.group"), dataset: { role: "group-filter" } });
    this.select.addEventListener("change", () => {
      this.value = this.select.value;
      onChange(this.value);
    });
    this.element = el("label", {}, el("span", { text: `${t("wall.group")}: ` }), this.select);
    this.groups = null;
  }

  update(cameras) {
    const groups = groupsOf(cameras);
    if (this.groups && this.groups.join("\n") === groups.join("\n")) return;
    this.groups = groups;
    const options = [el("option", { value: "", text: t("wall.group_all") })];
    for (const group of groups) options.push(el("option", { value: group, text: group }));
    this.select.replaceChildren(...options);
    if (!groups.includes(this.value)) this.value = "";
    this.select.value = this.value;
  }

  matches(camera) {
    return !this.value || camera.groups.includes(this.value);
  }
}

// Calls pause() when the tab is hidden and resume() when it is shown again, so a
// background tab costs neither the cameras nor the network anything.
export function followVisibility(view) {
  const listener = () => (document.hidden ? view.pause() : view.resume());
  document.addEventListener("visibilitychange", listener);
  return () => document.removeEventListener("visibilitychange", listener);
}
