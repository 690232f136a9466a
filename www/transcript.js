// The live transcript: one row per engine entry, in order, across sessions (a separator per
// new one); each reply paired with the command it answers (the engine's `answers` and
// `rttMs`: its round trip); the selected row
// explained; keyboard navigation; follow-the-newest unless the student scrolled up or picked a
// row. The parts live beside it:
//   transcript-rows.js      building and relabelling one row (text, raw bytes, reveal, collapse)
//   transcript-explain.js   the explanation panel
//   transcript-progress.js  the progress bar of a streaming RETR / TOP
//   transcript-export.js    copy, text and JSON export
//   raw-bytes.js            the raw-bytes renderer
// It listens to the session's events (session.js: connecting, transcript, progress, result,
// closed) and to the toolbar's buttons.

import { t, onLanguageChange } from "./i18n.js";
import { el } from "./dom.js";
import { buildRow, fillRow, renderProto, isBody } from "./transcript-rows.js";
import { ExplainPanel } from "./transcript-explain.js";
import { TransferProgress } from "./transcript-progress.js";
import { exportText, exportJson, copyText, download } from "./transcript-export.js";

export class Transcript {
  /** @param {object} ctx { session, sizeOf: (id) => number|null } */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.log = document.getElementById("transcript");
    this.rows = []; // { entry, el, revealed, expanded, rttMs, command, session }
    this.sessions = []; // { target, startedAt }
    this.clientRows = new Map(); // seq → client row of the current session (what replies answer)
    this.raw = false;
    this.follow = true;
    this.selected = null;
    this.active = null; // the row in the tab order
    this.explainPanel = new ExplainPanel();
    this.progress = new TransferProgress({ sizeOf: ctx.sizeOf });

    const s = this.session;
    s.addEventListener("connecting", (e) => this.#newSession(e.detail.target));
    s.addEventListener("transcript", (e) => this.add(e.detail));
    s.addEventListener("progress", (e) => this.progress.update(e.detail));
    s.addEventListener("result", (e) => this.progress.resultDone(e.detail));

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
    this.clientRows = new Map();
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
      this.clientRows.set(entry.seq, rec);
    } else if (entry.rttMs != null) {
      // A status line or SASL challenge: the engine says which client line it answers.
      rec.rttMs = entry.rttMs;
      rec.command = this.clientRows.get(entry.answers) ?? null;
    }
    if (isBody(entry)) this.progress.bodyArrived(entry);
    rec.el = buildRow(rec, { tls: this.session.client?.tls || this.session.tls, raw: this.raw });
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

  /** Scrolls to the newest line at the next frame (no forced layout while lines stream in). */
  #scrollSoon() {
    if (!this.stick || this.scrollFrame) return;
    this.scrollFrame = requestAnimationFrame(() => {
      this.scrollFrame = 0;
      if (this.stick) this.log.scrollTop = this.log.scrollHeight;
    });
  }

  #relabel() {
    for (const rec of this.rows) fillRow(rec, { raw: this.raw });
    for (const sep of this.log.querySelectorAll(".session-separator")) {
      sep.textContent = t("transcript.new-session", { target: sep.dataset.target });
    }
    if (this.selected) this.#explain(this.selected);
    this.progress.render();
  }

  toggleRaw(force) {
    this.raw = force ?? !this.raw;
    const b = document.getElementById("raw-toggle");
    b.setAttribute("aria-pressed", String(this.raw));
    this.log.classList.toggle("raw", this.raw);
    for (const rec of this.rows) renderProto(rec, { raw: this.raw });
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
      fillRow(rec, { raw: this.raw });
      if (this.selected === rec) this.#explain(rec);
      return;
    }
    if (e.target.closest(".expand")) {
      rec.expanded = !rec.expanded;
      fillRow(rec, { raw: this.raw });
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
    this.#explain(rec);
  }

  #explain(rec) {
    this.explainPanel.show(rec, { following: this.follow });
  }

  #showLatest() {
    const latest = [...this.rows].reverse().find((r) => r.entry.dir === "server") || this.rows[this.rows.length - 1];
    if (latest) this.select(latest, { focus: false, user: false });
  }

  /** The transcript as text (what Copy copies): `text` only, never a revealed secret. */
  exportText() {
    return exportText(this.rows, this.sessions);
  }

  /** The transcript as JSON (what Export JSON saves). */
  exportJson() {
    return exportJson(this.rows, this.sessions);
  }

  copy() {
    return copyText(this.exportText());
  }

  download(kind) {
    download(kind, kind === "json" ? this.exportJson() : this.exportText());
  }

  clear() {
    this.rows = [];
    this.selected = null;
    this.active = null;
    const keep = this.sessions[this.sessions.length - 1];
    this.sessions = keep ? [keep] : [];
    this.log.replaceChildren(el("p", "transcript-empty muted", t("transcript.empty")));
    this.log.querySelector(".transcript-empty").dataset.i18n = "transcript.empty";
    this.explainPanel.clear();
  }
}
