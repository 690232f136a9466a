// The live transcript: one row per engine entry (direction colour, timestamp ss.mmm, round
// trip command → reply, protocol text always left-to-right), the explanation of the selected
// row (localised long text and RFC section), a raw-bytes view (␍␊ shown, stuffed dots and the
// terminating "." highlighted), masked secrets with a per-row reveal, collapsed long bodies,
// the progress bar of a streaming RETR/TOP, TLS certificate details, copy and export.
// Protocol and message text is only ever set with textContent.

import { t, explain, onLanguageChange, formatBytes, rfcUrl } from "./i18n.js";
import { announce } from "./notice.js";

const COLLAPSE_OVER = 8; // body lines; longer bodies start collapsed
const COLLAPSED_LINES = 5;
const PROGRESS_MIN = 64 * 1024; // show the bar for bodies at least this large

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

function isBody(entry) {
  return entry.explain?.key?.startsWith("body.");
}

/** A status line or "+" line of the server: the reply that ends a command's round trip. */
function isStatusLine(entry) {
  const key = entry.explain?.key || "";
  return entry.dir === "server" && !key.startsWith("body.") && !key.startsWith("greeting.");
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function stripCrlf(s) {
  return s.replace(/\r?\n$/, "");
}

export class Transcript {
  /** @param {object} ctx { session, sizeOf: (id) => number|null } */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.log = document.getElementById("transcript");
    this.rows = []; // { entry, el, revealed, expanded, rttMs, session }
    this.sessions = []; // { target, startedAt }
    this.pendingCommands = []; // client rows waiting for their reply (FIFO: pipelining)
    this.raw = false;
    this.follow = true;
    this.selected = null;
    this.active = null; // the row in the tab order

    const s = this.session;
    s.addEventListener("connecting", (e) => this.#newSession(e.detail.target));
    s.addEventListener("transcript", (e) => this.add(e.detail));
    s.addEventListener("progress", (e) => this.#progress(e.detail));
    s.addEventListener("result", (e) => this.#resultDone(e.detail));
    s.addEventListener("closed", () => { this.pendingCommands = []; });

    // Stick to the newest line unless the student scrolled up to read.
    // Only a scroll upwards (the student's) lets go; reaching the bottom again re-attaches.
    this.stick = true;
    this.lastScrollTop = 0;
    this.log.addEventListener("scroll", () => {
      const top = this.log.scrollTop;
      if (this.log.scrollHeight - top - this.log.clientHeight < 40) this.stick = true;
      else if (top < this.lastScrollTop - 4) this.stick = false;
      this.lastScrollTop = top;
    });
    new ResizeObserver(() => {
      if (this.stick) this.log.scrollTop = this.log.scrollHeight;
    }).observe(this.log);
    this.log.addEventListener("click", (e) => this.#onClick(e));
    this.log.addEventListener("keydown", (e) => this.#onKey(e));
    document.getElementById("raw-toggle").addEventListener("click", () => this.toggleRaw());
    document.getElementById("copy-btn").addEventListener("click", () => this.copy());
    document.getElementById("export-text").addEventListener("click", () => this.download("text"));
    document.getElementById("export-json").addEventListener("click", () => this.download("json"));
    document.getElementById("clear-btn").addEventListener("click", () => this.clear());
    document.getElementById("explain-follow").addEventListener("click", () => {
      this.follow = true;
      this.#showLatest();
    });
    onLanguageChange(() => this.#relabel());
  }

  #newSession(target) {
    this.pendingCommands = [];
    this.sessions.push({ target, startedAt: new Date().toISOString() });
    if (this.rows.length > 0) {
      const sep = el("div", "session-separator");
      sep.dataset.target = target;
      sep.setAttribute("role", "separator");
      sep.textContent = t("transcript.new-session", { target });
      this.log.append(sep);
    }
    this.follow = true;
  }

  /** Adds one engine entry as a row. */
  add(entry) {
    const empty = this.log.querySelector(".transcript-empty");
    if (empty) empty.remove();
    const rec = { entry, revealed: false, expanded: false, rttMs: null, session: this.sessions.length - 1 };
    if (entry.dir === "client") {
      this.pendingCommands.push(rec);
    } else if (isStatusLine(entry)) {
      const cmd = this.pendingCommands.shift();
      if (cmd) {
        rec.rttMs = entry.atMs - cmd.entry.atMs;
        rec.command = cmd;
      }
    }
    if (isBody(entry)) this.#progressDone(entry);
    rec.el = this.#buildRow(rec);
    this.rows.push(rec);
    this.log.append(rec.el);
    if (!this.active) this.#setActive(rec);
    this.#scrollSoon();
    const err = entry.dir === "server" && entry.text.startsWith("-ERR");
    if (err) {
      // An -ERR is always explained at once.
      this.select(rec, { focus: false, user: false });
      this.follow = true;
    } else if (this.follow && entry.dir === "server") {
      this.select(rec, { focus: false, user: false });
    }
  }

  #buildRow(rec) {
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
    if (isBody(e) && this.#lineCount(e) > COLLAPSE_OVER) {
      const b = el("button", "small expand");
      b.type = "button";
      b.setAttribute("aria-expanded", "false");
      controls.append(b);
    }
    if (controls.childElementCount) main.append(controls);
    if (e.explain?.key === "info.tls" || e.explain?.key === "info.tls-implicit") {
      const tls = this.session.client?.tls || this.session.tls;
      if (tls) main.append(this.#certificate(tls));
    }
    row.append(time, tag, main);
    this.#fill(rec, row);
    return row;
  }

  #lineCount(e) {
    if (e._lines == null) {
      let n = 0;
      for (let i = e.text.indexOf("\n"); i !== -1; i = e.text.indexOf("\n", i + 1)) n++;
      e._lines = n;
    }
    return e._lines;
  }

  /** Scrolls to the newest line at the next frame (no forced layout while lines stream in). */
  #scrollSoon() {
    if (!this.stick || this.scrollFrame) return;
    this.scrollFrame = requestAnimationFrame(() => {
      this.scrollFrame = 0;
      if (this.stick) this.log.scrollTop = this.log.scrollHeight;
    });
  }

  /** (Re)writes the language-dependent and mode-dependent parts of a row. */
  #fill(rec, row = rec.el) {
    const e = rec.entry;
    const ex = explain(e.explain?.key);
    row.querySelector(".who").textContent = t(`transcript.dir-${e.dir}`);
    const short = row.querySelector(".short");
    short.textContent = ex ? ex.short : "";
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
        : t("transcript.expand", { lines: this.#lineCount(e) });
      expand.setAttribute("aria-expanded", String(rec.expanded));
    }
    this.#renderProto(rec, row.querySelector(".proto"));
    const cert = row.querySelector(".cert");
    if (cert) this.#labelCertificate(cert);
  }

  #renderProto(rec, proto) {
    const e = rec.entry;
    proto.replaceChildren();
    const body = isBody(e);
    const collapsed = body && !rec.expanded && this.#lineCount(e) > COLLAPSE_OVER;
    if (e.dir === "info") {
      proto.textContent = e.text;
      return;
    }
    let bytes = e.bytes;
    let text = e.text;
    if (e.masked && !rec.revealed) {
      bytes = encoder.encode(`${e.text}\r\n`);
    } else if (e.masked && rec.revealed) {
      text = stripCrlf(decoder.decode(e.bytes));
    }
    if (this.raw) {
      renderRaw(proto, bytes, { body, maxLines: collapsed ? COLLAPSED_LINES : Infinity });
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
    if (collapsed) note(t("transcript.more-lines", { lines: this.#lineCount(e) - COLLAPSED_LINES }));
    if (e.truncated) {
      note(t("transcript.truncated", { shown: formatBytes(e.bytes.length), total: formatBytes(e.totalBytes) }));
    }
  }

  #certificate(tls) {
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
    this.#labelCertificate(dl);
    return dl;
  }

  #labelCertificate(dl) {
    for (const dt of dl.querySelectorAll("dt")) dt.textContent = t(dt.dataset.label);
    for (const dd of dl.querySelectorAll("dd[data-verified]")) {
      dd.textContent = dd.dataset.verified === "true" ? `✔ ${t("cert.yes")}` : `✘ ${t("cert.no")}`;
    }
  }

  #relabel() {
    for (const rec of this.rows) this.#fill(rec);
    for (const sep of this.log.querySelectorAll(".session-separator")) {
      sep.textContent = t("transcript.new-session", { target: sep.dataset.target });
    }
    if (this.selected) this.#explainRow(this.selected);
    this.#renderProgress();
  }

  toggleRaw(force) {
    this.raw = force ?? !this.raw;
    const b = document.getElementById("raw-toggle");
    b.setAttribute("aria-pressed", String(this.raw));
    this.log.classList.toggle("raw", this.raw);
    for (const rec of this.rows) this.#renderProto(rec, rec.el.querySelector(".proto"));
  }

  #recOf(node) {
    const row = node.closest(".row");
    return row ? this.rows.find((r) => r.el === row) : null;
  }

  #onClick(e) {
    const rec = this.#recOf(e.target);
    if (!rec) return;
    if (e.target.closest(".reveal")) {
      rec.revealed = !rec.revealed;
      this.#fill(rec);
      if (this.selected === rec) this.#explainRow(rec);
      return;
    }
    if (e.target.closest(".expand")) {
      rec.expanded = !rec.expanded;
      this.#fill(rec);
      return;
    }
    if (window.getSelection()?.toString()) return; // selecting text to copy it
    this.select(rec, { focus: true, user: true });
  }

  #onKey(e) {
    const rec = this.#recOf(e.target);
    if (!rec || e.target !== rec.el) return;
    const i = this.rows.indexOf(rec);
    let to = null;
    switch (e.key) {
      case "ArrowDown": to = this.rows[i + 1]; break;
      case "ArrowUp": to = this.rows[i - 1]; break;
      case "Home": to = this.rows[0]; break;
      case "End": to = this.rows[this.rows.length - 1]; break;
      case "Enter":
      case " ":
        e.preventDefault();
        this.select(rec, { focus: true, user: true });
        return;
      default: return;
    }
    e.preventDefault();
    if (to) {
      this.#setActive(to);
      to.el.focus();
    }
  }

  #setActive(rec) {
    if (this.active && this.active !== rec) this.active.el.tabIndex = -1;
    this.active = rec;
    rec.el.tabIndex = 0;
  }

  /** Focuses the transcript (the selected row, else the last one). */
  focus() {
    const rec = this.selected || this.rows[this.rows.length - 1];
    if (rec) {
      this.#setActive(rec);
      rec.el.focus();
    } else {
      this.log.tabIndex = -1;
      this.log.focus();
    }
  }

  select(rec, { focus = false, user = false } = {}) {
    if (this.selected) this.selected.el.classList.remove("selected");
    this.selected = rec;
    rec.el.classList.add("selected");
    if (user) this.follow = false;
    this.#setActive(rec);
    if (focus) rec.el.focus();
    this.#explainRow(rec);
  }

  #showLatest() {
    const latest = [...this.rows].reverse().find((r) => r.entry.dir === "server") || this.rows[this.rows.length - 1];
    if (latest) this.select(latest, { focus: false, user: false });
  }

  /** The explanation panel for a row. */
  #explainRow(rec) {
    const panel = document.getElementById("explain-panel");
    const e = rec.entry;
    const key = e.explain?.key;
    const ex = explain(key);
    panel.querySelector(".explain-empty").hidden = true;
    const body = panel.querySelector(".explain-body");
    body.hidden = false;
    body.dataset.key = key || "";
    let line = e.masked && rec.revealed ? stripCrlf(decoder.decode(e.bytes)) : e.text;
    if (isBody(e)) {
      const lines = line.split("\n");
      line = lines.length > 4 ? `${lines.slice(0, 3).join("\n")}\n…` : line;
    }
    const dirTag = e.dir === "client" ? "C: " : e.dir === "server" ? "S: " : "";
    body.querySelector(".explain-line code").textContent = `${dirTag}${line}`;
    body.querySelector(".explain-short").textContent = ex ? ex.short : key || "";
    body.querySelector(".explain-long").textContent = ex ? ex.long : "";
    const extra = body.querySelector(".explain-extra");
    extra.replaceChildren();
    if (key === "body.CAPA") extra.append(this.#capabilities(e.text));
    if (rec.rttMs != null) extra.append(el("p", "muted", t("transcript.rtt-long", { ms: rec.rttMs })));
    const a = body.querySelector(".explain-rfc a");
    const ref = e.explain?.rfc || "";
    a.textContent = ref;
    const url = rfcUrl(ref);
    if (url) a.href = url; else a.removeAttribute("href");
    body.querySelector(".explain-rfc").hidden = !ref;
    document.getElementById("explain-follow").hidden = this.follow;
  }

  /** CAPA's list, each capability with its explanation (engine keys capa.X). */
  #capabilities(text) {
    const dl = el("dl", "capabilities");
    for (const line of text.split("\n")) {
      if (!line || line === ".") continue;
      const name = line.split(" ")[0].toUpperCase();
      const ex = explain(`capa.${name}`) || explain("capa.other");
      const dt = el("dt", null, line);
      dt.dir = "ltr";
      dl.append(dt, el("dd", null, ex ? ex.short : ""));
    }
    return dl;
  }

  // ----- progress of a streaming RETR / TOP --------------------------------------------------

  #progress(p) {
    if (p.command !== "RETR" && p.command !== "TOP") return;
    const expected = p.expected ?? (p.command === "RETR" ? this.ctx.sizeOf(p.id) : null);
    if (!this.prog || this.prog.handle !== p.handle) {
      this.prog = { handle: p.handle, command: p.command, id: p.id, received: 0, expected, done: false };
    }
    this.prog.received = p.received;
    this.prog.expected = expected;
    if ((expected ?? 0) < PROGRESS_MIN && p.received < PROGRESS_MIN) return;
    this.prog.shown = true;
    this.#scheduleProgress();
  }

  #scheduleProgress() {
    if (this.progFrame) return;
    this.progFrame = requestAnimationFrame(() => {
      this.progFrame = 0;
      this.#renderProgress();
    });
  }

  #renderProgress() {
    const box = document.getElementById("progress");
    const p = this.prog;
    if (!p || !p.shown) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.classList.toggle("done", p.done);
    const bar = document.getElementById("progress-bar");
    const label = `${p.command} ${p.id ?? ""}`.trim();
    if (p.expected) {
      bar.max = p.expected;
      bar.value = Math.min(p.received, p.expected);
    } else {
      bar.removeAttribute("value"); // indeterminate
    }
    const text = p.done
      ? t("progress.done", { command: label, total: formatBytes(p.received) })
      : p.expected
        ? t("progress.of", { command: label, received: formatBytes(p.received), expected: formatBytes(p.expected) })
        : t("progress.so-far", { command: label, received: formatBytes(p.received) });
    document.getElementById("progress-text").textContent = text;
    bar.setAttribute("aria-label", text);
    box.dataset.received = String(p.received);
    box.dataset.expected = String(p.expected ?? "");
  }

  #progressDone(entry) {
    const p = this.prog;
    if (!p || p.done) return;
    p.done = true;
    if (p.expected) p.received = Math.max(p.received, Math.min(entry.totalBytes, p.expected));
    if (!p.shown) return;
    this.#renderProgress();
    clearTimeout(this.progTimer);
    this.progTimer = setTimeout(() => {
      if (this.prog === p) {
        p.shown = false;
        this.#renderProgress();
      }
    }, 5000);
  }

  #resultDone(detail) {
    if ((detail.command === "RETR" || detail.command === "TOP") && this.prog && !this.prog.done) {
      if (!detail.ok) {
        this.prog.shown = false;
        this.#renderProgress();
      }
    }
  }

  // ----- copy and export: `text` only, never revealed secrets --------------------------------

  exportText() {
    const out = [];
    let session = -1;
    for (const rec of this.rows) {
      if (rec.session !== session) {
        session = rec.session;
        const s = this.sessions[session];
        if (s) out.push(`# popwire transcript: target ${s.target}, ${s.startedAt}`);
      }
      const e = rec.entry;
      const time = formatTime(e.atMs);
      const tag = e.dir === "client" ? "C:" : e.dir === "server" ? "S:" : "--";
      const lines = isBody(e) ? e.text.replace(/\n$/, "").split("\n") : [e.text];
      lines.forEach((line, i) => {
        out.push(`${i === 0 ? time : " ".repeat(time.length)} ${tag} ${line}`);
      });
      if (e.truncated) out.push(`${" ".repeat(time.length)} -- (first ${e.bytes.length} of ${e.totalBytes} octets)`);
    }
    return `${out.join("\n")}\n`;
  }

  exportJson() {
    const sessions = this.sessions.map((s) => ({ ...s, entries: [] }));
    for (const rec of this.rows) {
      const e = rec.entry;
      const item = {
        seq: e.seq, dir: e.dir, text: e.text, atMs: e.atMs, masked: e.masked,
        truncated: e.truncated, totalBytes: e.totalBytes, explain: e.explain,
      };
      if (rec.rttMs != null) item.rttMs = rec.rttMs;
      sessions[rec.session]?.entries.push(item);
    }
    return `${JSON.stringify({ popwire: "transcript", version: 1, sessions }, null, 2)}\n`;
  }

  async copy() {
    const text = this.exportText();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = el("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    announce(t("transcript.copied"));
  }

  download(kind) {
    const json = kind === "json";
    const blob = new Blob([json ? this.exportJson() : this.exportText()], {
      type: json ? "application/json" : "text/plain;charset=utf-8",
    });
    const url = URL.createObjectURL(blob);
    const a = el("a");
    a.href = url;
    a.download = `popwire-transcript.${json ? "json" : "txt"}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  clear() {
    this.rows = [];
    this.selected = null;
    this.active = null;
    this.pendingCommands = [];
    const keep = this.sessions[this.sessions.length - 1];
    this.sessions = keep ? [keep] : [];
    this.log.replaceChildren(el("p", "transcript-empty muted", t("transcript.empty")));
    this.log.querySelector(".transcript-empty").dataset.i18n = "transcript.empty";
    const panel = document.getElementById("explain-panel");
    panel.querySelector(".explain-empty").hidden = false;
    panel.querySelector(".explain-body").hidden = true;
  }
}

/**
 * The wire bytes of an entry: CR and LF shown as ␍ ␊, the dot a server added in front of a
 * line that starts with "." (byte-stuffing) and the terminating "." line highlighted.
 */
export function renderRaw(container, bytes, { body = false, maxLines = Infinity } = {}) {
  const text = decoder.decode(bytes);
  const lines = text.split("\n");
  const last = text.endsWith("\n") ? lines.length - 2 : lines.length - 1;
  const frag = document.createDocumentFragment();
  const end = Math.min(last, maxLines - 1);
  for (let i = 0; i <= end; i++) {
    let line = lines[i];
    const hasLf = i < lines.length - 1;
    const hasCr = line.endsWith("\r");
    if (hasCr) line = line.slice(0, -1);
    if (body && line === "." && hasLf) {
      const dot = el("mark", "terminator", ".");
      dot.title = t("raw.terminator");
      frag.append(dot);
    } else if (body && line.startsWith("..")) {
      const dot = el("mark", "stuffed", ".");
      dot.title = t("raw.stuffed");
      frag.append(dot, visible(line.slice(1)));
    } else {
      frag.append(visible(line));
    }
    if (hasCr) frag.append(controlPicture("␍", "C", "R"));
    if (hasLf) frag.append(controlPicture("␊", "L", "F"));
    if (i < end) frag.append("\n");
  }
  container.append(frag);
}

/**
 * ␍ or ␊. Drawn by CSS from its two letters (many fonts lack the Control Pictures block);
 * the character itself stays in the text, so copying the raw view copies ␍␊.
 */
function controlPicture(char, a, b) {
  const span = el("span", `ctl ${a === "C" ? "cr" : "lf"}`, char);
  span.dataset.a = a;
  span.dataset.b = b;
  return span;
}

/** Control characters other than CR/LF made visible (tab → ␉, others → their picture). */
function visible(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]/g, (c) =>
    c === "\x7f" ? "␡" : String.fromCharCode(0x2400 + c.charCodeAt(0))).replace(/\t/g, "␉");
}
