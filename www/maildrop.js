// The maildrop: a table built from LIST and UIDL (number, size, unique-id, marked for
// deletion) with per-row TOP / RETR / DELE; RSET un-marks; after QUIT the update is shown
// (what the server removed in the UPDATE state). It follows typed and raw commands alike.
// RETR on a message LIST says is over what the page shows does not fetch it for the viewer:
// the viewer offers to save it instead (event popwire:oversize), streaming the RETR.
// "Download all new messages" syncs as the mail program the page plays (mail-program.js: a
// laptop or a phone, each with its own memory and policy): LIST and UIDL together, then the
// engine's batch (retrMany, pipelined within its window) for every unique-id that program has
// not downloaded yet; each copy is kept as a Blob for this page and opened from its row without
// another RETR; then its policy marks with DELE what it deletes (download and delete, or N days
// after it first saw a message). The end is told as the document event `popwire:downloaded`.

import { t, formatBytes, formatNumber, onLanguageChange } from "./i18n.js";
import { SHOW_MAX } from "./viewer.js";
import { commandTable } from "./session.js";
// The engine's own reading of "what is new" (session.js loads the module before any click).
import { newSince } from "./pkg/popwire.js";
import { MailPrograms, toDelete } from "./mail-program.js";


export class Maildrop {
  /**
   * @param {object} ctx { session, perform: (command, ...args) => Promise, onMessage: (msg) => void,
   *   clock: () => Promise<number> (the server's time, ms), formatTime: (ms) => string }
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.table = document.getElementById("maildrop");
    this.tbody = this.table.querySelector("tbody");
    this.summary = document.getElementById("maildrop-summary");
    this.updateNote = document.getElementById("maildrop-update");
    this.topLinesInput = document.getElementById("top-lines");
    this.#buildDownloadAll();
    this.programs = new MailPrograms({ key: () => this.#memoryKey(), clock: ctx.clock, formatTime: ctx.formatTime });
    this.user = null; // who logged in (the maildrop's owner), from the login command's name
    this.#reset();

    const s = this.session;
    s.addEventListener("connecting", () => {
      this.#reset();
      this.render();
    });
    s.addEventListener("result", (e) => this.#onResult(e.detail));
    s.addEventListener("command", (e) => this.#onCommand(e.detail));
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
    this.downloaded = new Map(); // id → { blob, uid, size }: copies fetched by "Download all"
    this.download = null; // { running, done, total, bytes, size, failed, error } of the last one
  }

  // ----- "Download all new messages" ---------------------------------------------------------

  #buildDownloadAll() {
    const box = document.createElement("div");
    box.className = "download-all";
    box.id = "download-all";
    const button = document.createElement("button");
    button.type = "button";
    button.id = "download-all-btn";
    button.className = "small";
    button.setAttribute("aria-describedby", "download-all-hint");
    button.addEventListener("click", () => this.downloadAll());
    const hint = document.createElement("p");
    hint.id = "download-all-hint";
    hint.className = "muted download-all-hint";
    const progress = document.createElement("progress");
    progress.id = "download-all-progress";
    progress.max = 1;
    progress.value = 0;
    progress.hidden = true;
    const status = document.createElement("p");
    status.id = "download-all-status";
    status.className = "download-all-status";
    status.setAttribute("role", "status");
    box.append(button, progress, status, hint);
    this.summary.after(box);
    this.dl = { box, button, hint, progress, status };
  }

  /** The command whose +OK carries this reading (LIST: "sizes", UIDL: "unique-ids", RETR). */
  #commandReading(reading) {
    return [...commandTable().values()].find((c) => c.reading === reading)?.name;
  }

  /** The command with this effect (DELE: "mark-deleted"). */
  #commandEffect(effect) {
    return [...commandTable().values()].find((c) => c.effect === effect)?.name;
  }

  /** The login command's user name: its argument of kind "user-name" (the engine's metadata:
   * the wire's for a raw line, the typed call's, e.g. auth(mechanism, user, secret), else). */
  #onCommand({ command, args, raw }) {
    const meta = commandTable().get(command);
    if (!meta) return;
    const at = (raw ? meta.args : meta.call).findIndex((a) => a.kind === "user-name");
    if (at >= 0 && args[at]) this.user = String(args[at]);
  }

  /** The maildrop a program's memory is about: the target and the user. */
  #memoryKey() {
    const user = this.user ?? document.getElementById("user")?.value ?? "";
    return `${this.session.target ?? ""}:${user}`;
  }

  /**
   * Syncs as the page's mail program: LIST and UIDL together (pipelined), newSince() its
   * memory, then retrMany(): each message is handed over once, kept as a Blob, and its
   * unique-id remembered as it arrives; then the program's policy marks with DELE what it
   * deletes (the copies it has, or those it first saw N days ago or more).
   */
  async downloadAll() {
    const session = this.session;
    const client = session.client;
    if (!session.connected || session.state !== "TRANSACTION" || this.download?.running) return;
    const programs = this.programs;
    const policy = programs.current();
    const memory = programs.memory();
    const d = { running: true, done: 0, total: 0, bytes: 0, size: 0, failed: 0, error: null, listed: 0, deleted: 0, program: policy.program };
    this.download = d;
    this.#renderDownload();
    const current = () => this.session.client === client && this.download === d;
    try {
      // The sizes (for the progress and the engine's window) and the unique-ids, in one round
      // trip when the server pipelines; the server's time, for when each was first seen.
      const [list, uidl, now] = await Promise.all([
        this.ctx.perform(this.#commandReading("sizes")), this.ctx.perform(this.#commandReading("unique-ids")), this.ctx.clock(),
      ]);
      if (!current()) return;
      if (!Array.isArray(list) || !Array.isArray(uidl)) {
        d.error = t("maildrop.download-no-listing");
        return;
      }
      d.listed = uidl.length;
      const sizes = new Map(list.map((x) => [x.id, x.size]));
      const uidOf = new Map(uidl.map((x) => [x.id, x.uid]));
      const ids = newSince(uidl, [...memory.keys()]);
      d.total = ids.length;
      d.size = ids.reduce((sum, id) => sum + (sizes.get(id) ?? 0), 0);
      this.#renderDownload();
      let saving = null;
      const arrived = [];
      const save = () => programs.remember(memory, arrived.splice(0), now);
      if (ids.length) {
        const retr = this.#commandReading("message");
        const result = await client.retrMany(ids, {
          onMessage: ({ id, bytes }) => {
            if (!current()) return;
            const uid = uidOf.get(id);
            this.downloaded.set(id, { blob: new Blob([bytes], { type: "message/rfc822" }), uid, size: bytes.length, command: retr });
            arrived.push(uid);
            d.done += 1;
            d.bytes += bytes.length;
            // Remembered as they come (a dropped connection keeps what arrived), written at most
            // once per task.
            saving ??= setTimeout(() => { saving = null; save(); }, 0);
            this.#renderDownload();
          },
        });
        d.failed = result.failed.length;
      }
      if (saving !== null) clearTimeout(saving);
      save();
      if (!current()) return;
      // The program's policy: DELE (the command whose effect marks) what it deletes, together.
      const doomed = toDelete(uidl, memory, policy, now);
      if (doomed.length) {
        const mark = this.#commandEffect("mark-deleted");
        const marked = await Promise.all(doomed.map((id) => this.ctx.perform(mark, id)));
        d.deleted = marked.filter((r) => r != null).length;
      }
    } catch (error) {
      d.error = error?.note ?? String(error?.message || error); // a note is said in the page's language
    } finally {
      d.running = false;
      if (this.download === d) {
        this.render();
        document.dispatchEvent(new CustomEvent("popwire:downloaded", {
          detail: { program: d.program, listed: d.listed, downloaded: d.done, deleted: d.deleted, failed: d.failed, error: d.error },
        }));
      }
    }
  }

  /** Opens a downloaded copy in the viewer (no RETR is sent). */
  async #openDownloaded(id) {
    const copy = this.downloaded.get(id);
    if (!copy) return;
    const bytes = new Uint8Array(await copy.blob.arrayBuffer());
    this.ctx.onMessage({ command: copy.command, reading: "message", id, bytes, size: copy.size });
  }

  #renderDownload() {
    const { box, button, hint, progress, status } = this.dl;
    const d = this.download;
    const inTransaction = this.session.connected && this.session.state === "TRANSACTION";
    button.textContent = t("maildrop.download-all");
    hint.textContent = t("maildrop.download-all-hint");
    button.disabled = !inTransaction || Boolean(d?.running);
    button.setAttribute("aria-busy", String(Boolean(d?.running)));
    progress.setAttribute("aria-label", t("maildrop.download-progress-label"));
    box.dataset.state = !d ? "idle" : d.running ? "running" : d.error ? "failed" : "done";
    progress.hidden = !d?.running || d.total === 0;
    if (d && d.total) {
      progress.max = d.size || d.total;
      progress.value = d.size ? Math.min(d.bytes, d.size) : d.done;
    }
    let text = "";
    if (d?.error) {
      text = t("maildrop.download-failed", { error: d.error });
    } else if (d?.running) {
      text = d.total ? t("maildrop.download-progress", {
        done: formatNumber(d.done), total: formatNumber(d.total),
        bytes: formatBytes(d.bytes), size: formatBytes(d.size),
      }) : "";
    } else if (d && d.total === 0) {
      text = t("maildrop.download-none", { program: t(`program.${d.program}`) });
    } else if (d) {
      text = t("maildrop.download-done", { count: formatNumber(d.done), size: formatBytes(d.bytes) });
      if (d.failed) text += ` ${t("maildrop.download-failed-some", { failed: formatNumber(d.failed) })}`;
    }
    if (d && !d.running && !d.error && d.deleted) {
      text += `${text ? " " : ""}${t("maildrop.download-deleted", { program: t(`program.${d.program}`), count: formatNumber(d.deleted) })}`;
    }
    status.textContent = text;
    status.hidden = text === "";
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

  /**
   * A command's outcome, typed or raw, read by the engine's metadata: its `reading` says what
   * the +OK carries (the typed value, or a raw reply's `parsed` value), its `effect` what it
   * changes (a mark, every mark, the update). Arguments are found by their `kind`.
   */
  #onResult(d) {
    const meta = commandTable().get(d.command);
    if (!meta) return; // a SASL response, an unknown command: nothing to read
    const args = (d.raw ? meta.args : meta.call) ?? [];
    const arg = (kind) => {
      const at = args.findIndex((a) => a.kind === kind);
      return at >= 0 ? d.args[at] : undefined;
    };
    const id = Number(arg("message")) || null;
    if (!d.ok && !d.raw && meta.reading === "message" && d.error?.kind === "limit" && id) {
      // Over even what the page fetches: the viewer says so (nothing can be saved either).
      this.#oversize(id, { tooLarge: true });
    }
    if (d.ok) {
      const value = d.raw ? d.value?.parsed?.value : d.value;
      if (value != null) this.#read(meta, value, { id, lines: arg("lines") });
      this.#apply(meta.effect, id, d.value?.text ?? "");
    }
    this.render();
  }

  /** What a +OK carries, by the engine's `reading` of its command. */
  #read(meta, value, { id, lines }) {
    const each = Array.isArray(value) ? value : [value];
    switch (meta.reading) {
      case "stat": this.stat = value; break;
      case "sizes":
        if (Array.isArray(value)) this.#applyList(value.map((x) => [x.id, x.size]));
        else this.#message(value.id).size = value.size;
        break;
      case "unique-ids": for (const x of each) this.#message(x.id).uid = x.uid; break;
      case "message":
      case "head":
        if (!id) break;
        this.selected = id;
        this.#showMessage({
          command: meta.name, reading: meta.reading, id, lines,
          bytes: value instanceof Uint8Array ? value : value.bytes, size: this.sizeOf(id),
        });
        break;
      default: break;
    }
  }

  /** What a +OK changes, by the engine's `effect` of its command. */
  #apply(effect, id, text) {
    switch (effect) {
      case "mark-deleted": if (id) this.#message(id).marked = true; break;
      case "unmark-all": for (const m of this.messages.values()) m.marked = false; break;
      case "update": if (!this.quit) this.#afterQuit(text); break;
      default: break;
    }
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
      .filter((c) => c.states.includes("TRANSACTION") && c.args[0]?.kind === "message" && c.args[0].required)
      .map((c) => c.name);
    return this.actions;
  }

  /** A row button's typed-call arguments: the message, and a line count from the field. */
  #argsOf(action, id) {
    const call = commandTable().get(action)?.call ?? [];
    const value = { message: id, lines: this.topLines() };
    return call.filter((a) => a.required).map((a) => value[a.kind]);
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
    if (action === "open") {
      this.#openDownloaded(id);
      this.render();
      return;
    }
    if (commandTable().get(action)?.reading === "message" && (this.sizeOf(id) ?? 0) > SHOW_MAX) this.#oversize(id);
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
    // The unique-ids the page's mail program downloaded before (for the rows' "downloaded" mark).
    this.#seenNow = this.session.connected ? this.programs.memory() : null;
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
      const copy = this.downloaded.get(m.id);
      if (copy || (m.uid && this.#seenNow?.has(m.uid))) {
        const badge = document.createElement("span");
        badge.className = "downloaded-badge";
        badge.textContent = `✓ ${t("maildrop.downloaded")}`;
        uid.append(" ", badge);
      }
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
          b.disabled = !inTransaction || (m.marked && commandTable().get(action)?.effect === "mark-deleted");
          b.setAttribute("aria-label", [action, ...this.#argsOf(action, m.id)].join(" "));
          actions.append(b);
        }
        if (this.downloaded.has(m.id)) {
          const open = document.createElement("button");
          open.type = "button";
          open.className = "small open-copy";
          open.dataset.action = "open";
          open.textContent = t("maildrop.open");
          open.setAttribute("aria-label", t("maildrop.open-label", { id: formatNumber(m.id) }));
          actions.append(open);
        }
      }
      tr.append(num, size, uid, del, actions);
      frag.append(tr);
    }
    this.tbody.replaceChildren(frag);
    this.#renderSummary(rows);
    this.#renderDownload();
  }

  #seenNow = null;

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
