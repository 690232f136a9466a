// The maildrop: a table built from LIST and UIDL (number, size, unique-id, marked for
// deletion) with per-row TOP / RETR / DELE; RSET un-marks; after QUIT the update is shown
// (what the server removed in the UPDATE state). It follows typed and raw commands alike.
// RETR on a message LIST says is over what the page shows does not fetch it for the viewer:
// the viewer offers to save it instead (event popwire:oversize), streaming the RETR.

import { t, formatBytes, formatNumber, onLanguageChange } from "./i18n.js";
import { SHOW_MAX } from "./viewer.js";
import { commandTable } from "./session.js";

export class Maildrop {
  /** @param {object} ctx { session, perform: (command, ...args) => Promise, onMessage: (msg) => void } */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.table = document.getElementById("maildrop");
    this.tbody = this.table.querySelector("tbody");
    this.summary = document.getElementById("maildrop-summary");
    this.updateNote = document.getElementById("maildrop-update");
    this.topLinesInput = document.getElementById("top-lines");
    this.#reset();

    const s = this.session;
    s.addEventListener("connecting", () => {
      this.#reset();
      this.render();
    });
    s.addEventListener("result", (e) => this.#onResult(e.detail));
    s.addEventListener("closed", () => this.#onClosed());
    // QUIT's +OK arrives before the close (and before quit() resolves): the update is known then.
    s.addEventListener("transcript", (e) => {
      if (e.detail.explain?.key === "reply.QUIT.ok") {
        const text = e.detail.text.replace(/^\+OK ?/, "");
        // From AUTHORIZATION, QUIT just closes: there is no UPDATE state to show.
        if (this.session.state === "UPDATE") this.#afterQuit(text);
        else this.quit = { text, removed: [], noUpdate: true };
        this.render();
      }
    });
    s.addEventListener("state", () => this.render());
    this.tbody.addEventListener("click", (e) => this.#onClick(e));
    this.topLinesInput.addEventListener("change", () => {
      this.topLinesInput.value = String(this.topLines());
      document.dispatchEvent(new CustomEvent("popwire:selection"));
    });
    onLanguageChange(() => this.render());
    this.render();
  }

  #reset() {
    this.messages = new Map(); // id → { id, size, uid, marked, removed }
    this.stat = null;
    this.selected = null;
    this.quit = null; // { text } once QUIT succeeded from TRANSACTION
    this.aborted = 0; // marks dropped because the session ended without QUIT
    this.listed = false;
  }

  /** The message the TOP / RETR / DELE buttons and the guide act on. */
  selectedMessage() {
    if (this.selected != null && this.messages.has(this.selected)) return this.selected;
    for (const m of this.#sorted()) if (!m.marked && !m.removed) return m.id;
    return 1;
  }

  topLines() {
    const n = Math.floor(Number(this.topLinesInput.value));
    return Number.isFinite(n) && n >= 0 ? Math.min(n, 9999) : 10;
  }

  sizeOf(id) {
    return this.messages.get(id)?.size ?? null;
  }

  #message(id) {
    let m = this.messages.get(id);
    if (!m) {
      m = { id, size: null, uid: null, marked: false, removed: false };
      this.messages.set(id, m);
    }
    return m;
  }

  #sorted() {
    return [...this.messages.values()].sort((a, b) => a.id - b.id);
  }

  #onResult(d) {
    const { command, args } = d;
    if (!d.ok && !d.raw && command === "RETR" && d.error?.kind === "limit") {
      // Over even what the page fetches: the viewer says so (nothing can be saved either).
      this.#oversize(Number(args[0]), { tooLarge: true });
    }
    if (d.raw) {
      this.#onRaw(d);
    } else if (d.ok) {
      const v = d.value;
      switch (command) {
        case "STAT": this.stat = v; break;
        case "LIST":
          if (Array.isArray(v)) this.#applyList(v.map((x) => [x.id, x.size]));
          else this.#message(v.id).size = v.size;
          break;
        case "UIDL":
          if (Array.isArray(v)) for (const x of v) this.#message(x.id).uid = x.uid;
          else this.#message(v.id).uid = v.uid;
          break;
        case "DELE": this.#message(Number(args[0])).marked = true; break;
        case "RSET": for (const m of this.messages.values()) m.marked = false; break;
        case "QUIT": if (!this.quit) this.#afterQuit(v.text); break;
        case "TOP":
        case "RETR":
          this.selected = Number(args[0]);
          this.#showMessage({ command, id: Number(args[0]), lines: args[1], bytes: v.bytes, size: this.sizeOf(Number(args[0])) });
          break;
        default: break;
      }
    }
    this.render();
  }

  /**
   * Raw lines typed on the command line: the same bookkeeping, from what the engine parsed of
   * the reply (RawReply.parsed: STAT, LIST, UIDL, the exact octets of RETR / TOP).
   */
  #onRaw(d) {
    const v = d.value;
    if (!d.ok || !v) return;
    const n = Number(d.args[0]);
    const p = v.parsed;
    switch (p?.kind) {
      case "stat": this.stat = p.value; break;
      case "list": this.#applyList(p.value.map((x) => [x.id, x.size])); break;
      case "listOne": this.#message(p.value.id).size = p.value.size; break;
      case "uidl": for (const x of p.value) this.#message(x.id).uid = x.uid; break;
      case "uidlOne": this.#message(p.value.id).uid = p.value.uid; break;
      case "message":
        if (n) {
          this.selected = n;
          this.#showMessage({ command: d.command, id: n, lines: d.args[1], bytes: p.value, size: this.sizeOf(n) });
        }
        break;
      default:
        // What the page does after commands with no reading of their own.
        if (d.command === "DELE" && n) this.#message(n).marked = true;
        if (d.command === "RSET") for (const m of this.messages.values()) m.marked = false;
        if (d.command === "QUIT" && !this.quit) this.#afterQuit(v.text);
        break;
    }
    this.render();
  }

  /** Hands a message to the viewer in a task of its own, after the reply's task has ended. */
  #showMessage(msg) {
    setTimeout(() => this.ctx.onMessage(msg), 0);
  }

  #applyList(pairs) {
    this.listed = true;
    const seen = new Set();
    for (const [id, size] of pairs) {
      if (!Number.isFinite(id)) continue;
      seen.add(id);
      const m = this.#message(id);
      m.size = size;
    }
    // LIST leaves out messages marked for deletion; anything else it does not list is gone.
    for (const m of this.messages.values()) {
      if (!seen.has(m.id) && !m.marked) this.messages.delete(m.id);
    }
  }

  #afterQuit(text) {
    if (!this.listed && this.messages.size === 0) {
      this.quit = { text, removed: [] };
      return;
    }
    const removed = [];
    for (const m of this.messages.values()) {
      if (m.marked) {
        m.removed = true;
        m.marked = false;
        removed.push(m);
      }
    }
    this.quit = { text, removed };
  }

  /** Closed without QUIT: no UPDATE state, so the server deleted nothing. */
  #onClosed() {
    if (this.quit) return;
    let marked = 0;
    for (const m of this.messages.values()) {
      if (m.marked) marked++;
      m.marked = false;
    }
    this.aborted = marked;
    this.render();
  }

  /** A row's buttons: the commands of TRANSACTION whose first argument is a message (the
   * engine's metadata: TOP, RETR, DELE). */
  #actions() {
    this.actions ??= [...commandTable().values()]
      .filter((c) => c.states.includes("TRANSACTION") && c.args[0]?.name === "msg" && c.args[0].required)
      .map((c) => c.name);
    return this.actions;
  }

  /** A row button's arguments: the message, and TOP's line count from the field. */
  #argsOf(action, id) {
    const args = commandTable().get(action)?.args ?? [];
    const value = { msg: id, n: this.topLines() };
    return args.filter((a) => a.required).map((a) => value[a.name]);
  }

  #onClick(e) {
    const btn = e.target.closest("button[data-action]");
    const row = e.target.closest("tr[data-id]");
    if (!row) return;
    const id = Number(row.dataset.id);
    this.selected = id;
    if (!btn) {
      this.render();
      document.dispatchEvent(new CustomEvent("popwire:selection"));
      return;
    }
    const action = btn.dataset.action;
    document.dispatchEvent(new CustomEvent("popwire:selection"));
    if (action === "RETR" && (this.sizeOf(id) ?? 0) > SHOW_MAX) this.#oversize(id);
    else this.ctx.perform(action, ...this.#argsOf(action, id));
    this.render();
  }

  /** Hands a message too large to show to the viewer, with a way to stream its RETR. */
  #oversize(id, { tooLarge = false } = {}) {
    const session = this.session;
    const client = session.client;
    const retrieve = (onChunk) => {
      if (!session.connected || session.client !== client) {
        return Promise.reject(new Error(t("maildrop.not-connected")));
      }
      return client.retrStream(id, onChunk);
    };
    document.dispatchEvent(new CustomEvent("popwire:oversize", {
      detail: { id, size: this.sizeOf(id), tooLarge, retrieve },
    }));
  }

  /** Focuses the table (the selected row's first button). */
  focus() {
    const btn = this.tbody.querySelector("tr.selected button") || this.tbody.querySelector("button");
    (btn || this.table).focus();
  }

  render() {
    const inTransaction = this.session.connected && this.session.state === "TRANSACTION";
    const rows = this.#sorted();
    const selected = this.selectedMessage();
    const frag = document.createDocumentFragment();
    for (const m of rows) {
      const tr = document.createElement("tr");
      tr.dataset.id = String(m.id);
      tr.classList.toggle("marked", m.marked);
      tr.classList.toggle("removed", m.removed);
      tr.classList.toggle("selected", m.id === selected && !m.removed);
      if (m.id === selected) tr.setAttribute("aria-selected", "true");
      const num = cell("td", String(m.id), "num");
      num.dir = "ltr";
      const size = cell("td", m.size == null ? "—" : formatBytes(m.size), "size");
      if (m.size != null) size.title = `${formatNumber(m.size)} ${t("maildrop.octets")}`;
      // A unique-id may be 70 characters (RFC 1939 §7): the span cuts it to fit, the title
      // holds all of it.
      const uid = cell("td", "", "uid");
      uid.dir = "ltr";
      const uidText = document.createElement("span");
      uidText.textContent = m.uid ?? "—";
      if (m.uid) uid.title = m.uid;
      uid.append(uidText);
      const del = cell("td", "", "del");
      const mark = document.createElement("span");
      mark.className = "mark";
      mark.textContent = m.removed ? `✖ ${t("maildrop.removed")}` : m.marked ? `☒ ${t("maildrop.marked")}` : "☐";
      if (!m.marked && !m.removed) mark.setAttribute("aria-label", t("maildrop.not-marked"));
      del.append(mark);
      const actions = cell("td", "", "actions");
      if (!m.removed) {
        for (const action of this.#actions()) {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "small";
          b.dataset.action = action;
          b.textContent = action;
          b.dir = "ltr";
          b.disabled = !inTransaction || (m.marked && action === "DELE");
          b.setAttribute("aria-label", [action, ...this.#argsOf(action, m.id)].join(" "));
          actions.append(b);
        }
      }
      tr.append(num, size, uid, del, actions);
      frag.append(tr);
    }
    this.tbody.replaceChildren(frag);
    this.#renderSummary(rows);
  }

  #renderSummary(rows) {
    let text;
    const marked = rows.filter((m) => m.marked).length;
    if (!this.session.connected && !this.quit && rows.length === 0) {
      text = t("maildrop.not-connected");
    } else if (rows.length === 0 && this.stat) {
      text = t("maildrop.stat-only", { count: formatNumber(this.stat.count), size: formatBytes(this.stat.size) });
    } else if (rows.length === 0) {
      text = this.session.state === "TRANSACTION" ? t("maildrop.hint-list") : t("maildrop.hint-login");
    } else {
      const live = rows.filter((m) => !m.removed);
      const total = live.reduce((a, m) => a + (m.size ?? 0), 0);
      text = t("maildrop.summary", { count: formatNumber(live.length), size: formatBytes(total) });
      if (marked) text += ` ${t("maildrop.summary-marked", { marked: formatNumber(marked) })}`;
      if (!rows.some((m) => m.uid)) text += ` ${t("maildrop.hint-uidl")}`;
    }
    this.summary.textContent = text;
    const note = this.updateNote;
    if (this.quit?.noUpdate) {
      note.hidden = true;
    } else if (this.quit) {
      note.hidden = false;
      // Each "number (unique-id)" isolated left-to-right inside the sentence (U+2066 … U+2069).
      const ids = this.quit.removed.map((m) => `\u2066${m.id}${m.uid ? ` (${m.uid})` : ""}\u2069`).join(", ");
      note.textContent = this.quit.removed.length
        ? t("maildrop.update-removed", { ids, count: formatNumber(this.quit.removed.length) })
        : t("maildrop.update-none");
    } else if (this.aborted) {
      note.hidden = false;
      note.textContent = t("maildrop.closed-no-quit", { count: formatNumber(this.aborted) });
    } else {
      note.hidden = true;
    }
  }
}

function cell(tag, text, cls) {
  const c = document.createElement(tag);
  c.textContent = text;
  if (cls) c.className = cls;
  return c;
}
