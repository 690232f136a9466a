// One row of the transcript: direction colour, timestamp ss.mmm, the protocol text (always
// left-to-right; raw bytes on request), the short explanation, what a SASL challenge decodes
// to (the engine's `challenge`), the round trip of a reply,
// masked secrets with a per-row reveal, collapsed long bodies, TLS certificate details.
//
// A row is built from a record `rec`: { entry, el, revealed, expanded, rttMs, command,
// session } (transcript.js keeps the list). buildRow makes the element once; fillRow rewrites
// what depends on the language, the reveal/expand toggles and the raw mode.
// Protocol and message text is only ever set with textContent.

import { t, explain, say, isRtl, formatBytes } from "./i18n.js";
import { el } from "./dom.js";
import { renderRaw } from "./raw-bytes.js";

const COLLAPSE_OVER = 8; // body lines; longer bodies start collapsed
const COLLAPSED_LINES = 5;

const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();

/** atMs as ss.mmm (m:ss.mmm past a minute). */
export function formatTime(ms) {
  const total = Math.max(0, Math.round(ms));
  const s = Math.floor(total / 1000);
  const frac = String(total % 1000).padStart(3, "0");
  if (s < 60) return `${String(s).padStart(2, "0")}.${frac}`;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}.${frac}`;
}

/** A multi-line body (its explanation key is body.*). */
export function isBody(entry) {
  return entry.explain?.key?.startsWith("body.");
}

function stripCrlf(s) {
  return s.replace(/\r?\n$/, "");
}

/** The entry's text as the row shows it: the secret itself once the student revealed it. */
export function shownText(rec) {
  const e = rec.entry;
  return e.masked && rec.revealed ? stripCrlf(decoder.decode(e.bytes)) : e.text;
}

function lineCount(e) {
  if (e._lines == null) {
    let n = 0;
    for (let i = e.text.indexOf("\n"); i !== -1; i = e.text.indexOf("\n", i + 1)) n++;
    e._lines = n;
  }
  return e._lines;
}

/**
 * The row element of `rec`. `tls`: the session's TLS info, shown under a TLS note.
 * `raw`: whether the raw-bytes view is on.
 */
export function buildRow(rec, { tls, raw }) {
  const e = rec.entry;
  const row = el("div", `row dir-${e.dir}`);
  row.dataset.seq = e.seq;
  row.dataset.key = e.explain?.key || "";
  row.tabIndex = -1;
  if (e.masked) row.classList.add("masked");
  if (e.dir === "server" && e.text.startsWith("-ERR")) row.classList.add("err");
  if (e.dir === "server" && e.text.startsWith("+OK")) row.classList.add("ok");
  if (isBody(e)) row.classList.add("body");

  const time = el("span", "time", formatTime(e.atMs));
  time.dir = "ltr";
  const tag = el("span", `tag tag-${e.dir}`);
  tag.dir = "ltr";
  tag.append(el("span", null, e.dir === "client" ? "C:" : e.dir === "server" ? "S:" : "ℹ"));
  const who = el("span", "visually-hidden who");
  tag.append(who);
  const main = el("div", "main");
  const proto = el(isBody(e) ? "pre" : "code", "proto");
  proto.dir = "ltr";
  main.append(proto);
  const meta = el("div", "meta");
  const short = el("span", "short");
  meta.append(short);
  if (e.challenge?.text) {
    // A SASL "+" challenge as the engine decoded it from base64 ("Username:", a CRAM-MD5 timestamp).
    const decoded = el("span", "decoded");
    const code = el("code", null, e.challenge.text);
    code.dir = "ltr";
    decoded.append(el("span", "decoded-label"), " ", code);
    meta.append(decoded);
  }
  if (rec.rttMs != null) {
    const rtt = el("span", "rtt");
    rtt.dir = "ltr";
    meta.append(rtt);
  }
  main.append(meta);
  const controls = el("div", "controls");
  if (e.masked) {
    const b = el("button", "small reveal");
    b.type = "button";
    b.setAttribute("aria-pressed", "false");
    controls.append(b);
  }
  if (isBody(e) && lineCount(e) > COLLAPSE_OVER) {
    const b = el("button", "small expand");
    b.type = "button";
    b.setAttribute("aria-expanded", "false");
    controls.append(b);
  }
  if (controls.childElementCount) main.append(controls);
  if ((e.explain?.key === "info.tls" || e.explain?.key === "info.tls-implicit") && tls) {
    main.append(certificate(tls));
  }
  row.append(time, tag, main);
  fillRow(rec, { raw }, row);
  return row;
}

/** (Re)writes the language-dependent and mode-dependent parts of a row. */
export function fillRow(rec, { raw }, row = rec.el) {
  const e = rec.entry;
  const ex = explain(e.explain?.key);
  row.querySelector(".who").textContent = t(`transcript.dir-${e.dir}`);
  const short = row.querySelector(".short");
  short.textContent = ex ? ex.short : "";
  const decoded = row.querySelector(".decoded-label");
  if (decoded) decoded.textContent = t("cmdline.sasl-decoded");
  const rtt = row.querySelector(".rtt");
  if (rtt) {
    rtt.textContent = `⟲ ${rec.rttMs < 1 ? "<1" : rec.rttMs} ms`;
    rtt.title = t("transcript.rtt", { command: rec.command?.entry.text.split(" ")[0] ?? "" });
  }
  const reveal = row.querySelector(".reveal");
  if (reveal) {
    reveal.textContent = t(rec.revealed ? "transcript.hide" : "transcript.reveal");
    reveal.setAttribute("aria-pressed", String(rec.revealed));
  }
  const expand = row.querySelector(".expand");
  if (expand) {
    expand.textContent = rec.expanded
      ? t("transcript.collapse")
      : t("transcript.expand", { lines: lineCount(e) });
    expand.setAttribute("aria-expanded", String(rec.expanded));
  }
  renderProto(rec, { raw }, row.querySelector(".proto"));
  const cert = row.querySelector(".cert");
  if (cert) labelCertificate(cert);
}

/** The protocol text of a row: text or raw bytes, collapsed or whole, secret masked or shown. */
export function renderProto(rec, { raw }, proto = rec.el.querySelector(".proto")) {
  const e = rec.entry;
  proto.replaceChildren();
  const body = isBody(e);
  const collapsed = body && !rec.expanded && lineCount(e) > COLLAPSE_OVER;
  if (e.dir === "info") {
    // popwire's own words (a note) in the page's language and direction; a state's name as is.
    proto.classList.toggle("said", Boolean(e.note));
    proto.dir = e.note && isRtl() ? "rtl" : "ltr";
    proto.textContent = e.note ? say(e.note) : e.text;
    return;
  }
  let bytes = e.bytes;
  let text = e.text;
  if (e.masked && !rec.revealed) {
    bytes = encoder.encode(`${e.text}\r\n`);
  } else if (e.masked && rec.revealed) {
    text = shownText(rec);
  }
  if (raw) {
    renderRaw(proto, bytes, { marks: body ? e.wireMarks : null, maxLines: collapsed ? COLLAPSED_LINES : Infinity });
  } else if (collapsed) {
    let cut = -1;
    for (let i = 0; i < COLLAPSED_LINES; i++) {
      cut = text.indexOf("\n", cut + 1);
      if (cut === -1) break;
    }
    proto.textContent = cut === -1 ? text : text.slice(0, cut);
  } else {
    proto.textContent = body ? text.replace(/\n$/, "") : text;
  }
  // Notes in the page's language, on their own line, in the page's direction.
  const note = (text) => {
    const span = el("span", "more", `… ${text}`);
    span.dir = document.documentElement.dir || "ltr";
    proto.append(span);
  };
  if (collapsed) note(t("transcript.more-lines", { lines: lineCount(e) - COLLAPSED_LINES }));
  if (e.truncated) {
    note(t("transcript.truncated", { shown: formatBytes(e.bytes.length), total: formatBytes(e.totalBytes) }));
  }
}

/** The TLS certificate's facts under a TLS note. */
function certificate(tls) {
  const dl = el("dl", "cert");
  const add = (key, value, ltr = true) => {
    const dt = el("dt", null);
    dt.dataset.label = key;
    const dd = el("dd", null, value);
    if (ltr) dd.dir = "ltr";
    dl.append(dt, dd);
  };
  add("cert.version", `${tls.version} · ${tls.cipher}`);
  add("cert.verified", tls.verified ? "✔" : "✘", false);
  dl.querySelector("dd:last-of-type").dataset.verified = String(Boolean(tls.verified));
  add("cert.subject", tls.peer?.subject ?? "");
  add("cert.issuer", tls.peer?.issuer ?? "");
  add("cert.not-after", tls.peer?.notAfter ?? "");
  add("cert.sha256", (tls.peer?.sha256 ?? "").replace(/(..)(?!$)/g, "$1:"));
  labelCertificate(dl);
  return dl;
}

function labelCertificate(dl) {
  for (const dt of dl.querySelectorAll("dt")) dt.textContent = t(dt.dataset.label);
  for (const dd of dl.querySelectorAll("dd[data-verified]")) {
    dd.textContent = dd.dataset.verified === "true" ? `✔ ${t("cert.yes")}` : `✘ ${t("cert.no")}`;
  }
}
