// The message area under the top bar: one clear, specific, localised message at a time
// (connection failures, refused logins, server errors), plus a polite live region for
// short confirmations.

import { t, explain, say, isRtl, onLanguageChange } from "./i18n.js";

let box;
let live;
let last = null; // the last message, re-rendered when the language changes

export function initNotice() {
  box = document.getElementById("notice");
  live = document.getElementById("status-live");
  box.querySelector(".notice-close").addEventListener("click", () => clearNotice());
  onLanguageChange(() => {
    if (last) render(last);
  });
}

/**
 * Shows a message. `spec`: { level: "error"|"warn"|"ok"|"info", title: [key, vars],
 * text: [key, vars], wire: "the server's line", why: engine explanation key,
 * hint: [key, vars], detail: the API's note ({key, params}, said in the page's language), or a
 * text as it is }
 */
export function showNotice(spec) {
  last = spec;
  render(spec);
  if (spec.level === "error") {
    box.setAttribute("role", "alert");
  } else {
    box.setAttribute("role", "status");
  }
}

function render(spec) {
  box.hidden = false;
  box.className = `notice notice-${spec.level || "info"}`;
  box.dataset.kind = spec.kind || "";
  const q = (s) => box.querySelector(s);
  q(".notice-title").textContent = spec.title ? t(...spec.title) : "";
  setPart(q(".notice-text"), spec.text ? t(...spec.text) : "");
  const wire = q(".notice-wire");
  wire.hidden = !spec.wire;
  wire.querySelector("code").textContent = spec.wire || "";
  const why = q(".notice-why");
  const ex = spec.why ? explain(spec.why) : null;
  why.hidden = !ex;
  why.textContent = ex ? ex.long : "";
  setPart(q(".notice-hint"), spec.hint ? t(...spec.hint) : "");
  const detail = q(".notice-detail");
  const said = spec.detail && typeof spec.detail === "object";
  detail.hidden = !spec.detail;
  const code = detail.querySelector("code");
  code.textContent = said ? say(spec.detail) : spec.detail || "";
  // popwire's own words read in the page's direction; anything else is shown as it came.
  code.dir = said && isRtl() ? "rtl" : "ltr";
}

function setPart(el, text) {
  el.hidden = !text;
  el.textContent = text;
}

export function clearNotice() {
  last = null;
  if (box) box.hidden = true;
}

/** A short polite announcement for screen readers (not shown). */
export function announce(text) {
  if (!live) return;
  live.textContent = "";
  // A new text node after a tick, so that repeated messages are announced again.
  setTimeout(() => { live.textContent = text; }, 30);
}
