// The message viewer: tabs Headers | Text | HTML (safe) | Parts | Raw, from parseMessage().
// Message data is only ever shown with textContent, or — HTML only — inside
// <iframe sandbox="" srcdoc=…> whose document starts with a strict CSP meta
// (default-src 'none'; style-src 'unsafe-inline'; img-src data:). The page never parses a
// message's markup itself (a document it parsed would inherit the page's own policy): the
// parse worker cleans it with the engine's inertHtml() (html5ever + ammonia, allow-list), and
// the student is told what was removed. Every message is parsed in that worker too: the page
// never freezes, and mail-parser stays out of the page's own module.
// A message over SHOW_MAX is not shown: the student is told its size (LIST's) and offered
// "save the raw message", which streams a RETR (retrStream) into a download. The pieces go
// into a Blob built from chunk parts (Chromium keeps large blobs outside the page's heap), not
// a true stream to a file: showSaveFilePicker needs a native dialog that headless Chromium
// (and most browsers) do not offer. The engine still assembles the body in wasm memory.

import { FETCH_MAX } from "./session.js";
import { t, formatBytes, onLanguageChange, isRtl } from "./i18n.js";

/** The largest message the page shows: 64 MiB, or less with `?maxBody=OCTETS` (tests). */
export const SHOW_MAX = showMax(new URLSearchParams(location.search).get("maxBody"));

function showMax(param) {
  const limit = Math.min(64 * 1024 * 1024, FETCH_MAX);
  const n = Math.floor(Number(param));
  return param && Number.isFinite(n) && n >= 1 ? Math.min(n, limit) : limit;
}

const BLOB_EVERY = 16 * 1024 * 1024; // pieces of a saved message are folded into a Blob this often

const RAW_MAX = 256 * 1024; // octets of source shown in the Raw tab
const TEXT_MAX = 256 * 1024; // characters of text shown before "show everything"

const decoder = new TextDecoder("utf-8");

export class Viewer {
  constructor() {
    this.body = document.getElementById("viewer-body");
    this.tabs = [...document.querySelectorAll('#viewer [role="tab"]')];
    this.current = null;
    this.token = 0;
    this.tab = "headers";
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.select(tab.dataset.tab, true));
      tab.addEventListener("keydown", (e) => this.#tabKey(e));
    }
    this.offered = null; // { id, size, retrieve?, bytes?, tooLarge?, status, saving }
    document.addEventListener("popwire:oversize", (e) => this.offer(e.detail));
    onLanguageChange(() => {
      if (this.current) this.#render();
      if (this.offered) this.#renderOffer();
    });
  }

  #tabKey(e) {
    const visible = this.tabs.filter((x) => !x.hidden);
    const i = visible.indexOf(e.currentTarget);
    let to = null;
    const forward = isRtl() ? "ArrowLeft" : "ArrowRight";
    const back = isRtl() ? "ArrowRight" : "ArrowLeft";
    if (e.key === forward) to = visible[(i + 1) % visible.length];
    else if (e.key === back) to = visible[(i - 1 + visible.length) % visible.length];
    else if (e.key === "Home") to = visible[0];
    else if (e.key === "End") to = visible[visible.length - 1];
    if (!to) return;
    e.preventDefault();
    this.select(to.dataset.tab, true);
  }

  select(name, focus = false) {
    this.tab = name;
    if (this.current && this.stale?.has(name)) {
      this.stale.delete(name);
      this.#build(name);
    }
    for (const tab of this.tabs) {
      const on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
      if (on && focus) tab.focus();
    }
  }

  /** Fills one tab's panel (tabs are built when first shown: a large message costs little). */
  #build(name) {
    const p = this.current.parsed;
    switch (name) {
      case "headers": this.#headers(p); break;
      case "text": this.#text(p); break;
      case "html": this.#html(p); break;
      case "parts": this.#parts(p); break;
      case "raw": this.#raw(this.current); break;
      default: break;
    }
  }

  /** Shows a RETR / TOP result: { command, reading: "message" | "head", id, lines, bytes, size }
   * (`reading` is the engine's for the command: the whole message, or its head). */
  async show(msg) {
    if (msg.reading === "message" && msg.bytes.length > SHOW_MAX) {
      // Here already (a RETR typed by hand), but too large to show: offer to save these bytes.
      this.offer({ id: msg.id, size: msg.bytes.length, bytes: msg.bytes });
      return;
    }
    const token = ++this.token;
    document.getElementById("viewer-empty").hidden = true;
    if (this.offerBox) this.offerBox.hidden = true;
    this.offered = null;
    this.body.hidden = false;
    // `octets`: the bytes go to the parse worker (transferred: `msg.bytes` is empty after).
    this.current = { ...msg, octets: msg.bytes.length, parsed: null, parsing: true };
    this.raw = msg.bytes.subarray(0, RAW_MAX).slice();
    this.#render();
    let parsed;
    try {
      parsed = await parseInWorker(msg.bytes, TEXT_MAX * 4);
    } catch (error) {
      parsed = { error: String(error?.message || error) };
    }
    if (token !== this.token) return;
    this.current.parsed = parsed;
    this.current.parsing = false;
    this.#render();
  }

  /**
   * A message too large to show: says so and offers "save the raw message".
   * `{ id, size, retrieve(onChunk) → Promise<{size}> }` (streams a RETR), or `{ id, size, bytes }`
   * (already here), or `{ id, size, tooLarge: true }` (over what the page fetches at all).
   */
  offer(detail) {
    ++this.token; // a message still being parsed is not shown over this
    if (this.offered?.saving) return; // one save at a time; it reports when it is done
    this.current = null;
    this.offered = { ...detail, status: null, saving: false };
    document.getElementById("viewer-empty").hidden = true;
    this.body.hidden = true;
    if (!this.offerBox) {
      this.offerBox = document.createElement("div");
      this.offerBox.id = "viewer-oversize";
      this.offerBox.className = "viewer-oversize";
      document.getElementById("viewer-empty").after(this.offerBox);
    }
    this.offerBox.hidden = false;
    this.#renderOffer();
  }

  #renderOffer() {
    const o = this.offered;
    const box = this.offerBox;
    box.dataset.id = String(o.id);
    const vars = { id: o.id, size: o.size == null ? "?" : formatBytes(o.size), max: formatBytes(SHOW_MAX) };
    const nodes = [];
    if (o.tooLarge) {
      nodes.push(para(t("viewer.oversize-too-large", { ...vars, max: formatBytes(FETCH_MAX) })));
    } else {
      nodes.push(para(t(o.size == null ? "viewer.oversize-unknown" : "viewer.oversize", vars)));
      nodes.push(para(t("viewer.oversize-note"), "muted"));
      const b = document.createElement("button");
      b.type = "button";
      b.id = "oversize-save";
      b.className = "primary";
      b.textContent = t("viewer.oversize-save");
      b.disabled = o.saving;
      b.addEventListener("click", () => this.#save());
      nodes.push(b);
    }
    if (o.status) {
      const status = para(t(o.status.key, o.status.vars), "oversize-status");
      status.dataset.state = o.status.state;
      status.setAttribute("role", "status");
      nodes.push(status);
    }
    box.replaceChildren(...nodes);
  }

  /** Retrieves the offered message into a Blob piece by piece, then hands it to the browser. */
  async #save() {
    const o = this.offered;
    if (!o || o.saving) return;
    o.saving = true;
    const total = o.size;
    let received = 0;
    let pending = [];
    let pendingSize = 0;
    const blobs = [];
    const setStatus = (key, vars, state) => {
      o.status = { key, vars, state };
      if (this.offered === o) this.#renderOffer();
    };
    setStatus("viewer.oversize-saving", { received: formatBytes(0), size: total == null ? "?" : formatBytes(total) }, "saving");
    try {
      if (o.bytes) {
        blobs.push(new Blob([o.bytes]));
        received = o.bytes.length;
      } else {
        let shown = 0;
        await o.retrieve((chunk) => {
          pending.push(chunk);
          pendingSize += chunk.length;
          received += chunk.length;
          if (pendingSize >= BLOB_EVERY) {
            // Handed to the browser's blob storage; the pieces can be collected.
            blobs.push(new Blob(pending));
            pending = [];
            pendingSize = 0;
          }
          if (received - shown >= 256 * 1024) {
            shown = received;
            setStatus("viewer.oversize-saving", { received: formatBytes(received), size: total == null ? "?" : formatBytes(total) }, "saving");
          }
        });
      }
      const blob = new Blob([...blobs, ...pending], { type: "message/rfc822" });
      pending = [];
      const file = `message-${o.id}.eml`;
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = file;
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      o.saving = false;
      setStatus("viewer.oversize-saved", { size: formatBytes(blob.size), file }, "saved");
    } catch (error) {
      o.saving = false;
      setStatus("viewer.oversize-failed", { error: error?.note ?? String(error?.message || error) }, "failed");
    }
  }

  #render() {
    const m = this.current;
    const p = m.parsed;
    const meta = document.getElementById("viewer-meta");
    meta.replaceChildren();
    const cmd = document.createElement("code");
    cmd.dir = "ltr";
    cmd.textContent = [m.command, m.id, m.lines].filter((x) => x != null).join(" ");
    meta.append(cmd, ` · ${formatBytes(m.octets)}`);
    if (m.reading === "head") meta.append(` · ${t("viewer.top-note", { lines: m.lines })}`);
    if (p?.subject) {
      const subject = document.createElement("bdi");
      subject.textContent = p.subject;
      meta.append(" · ", subject);
    }
    this.#from(p?.fromMailboxes ?? []);
    this.body.dataset.command = m.command;
    this.body.dataset.id = String(m.id);
    document.getElementById("tab-html").hidden = !p?.html;
    if (this.tab === "html" && !p?.html) this.tab = "headers";
    this.stale = new Set(["headers", "text", "html", "parts", "raw"]);
    this.select(this.tab);
  }

  /** From, each display name and address apart: the name is free text the sender chose (a
   * phishing message puts a bank there, even a bank's address); the address is where the
   * message says it comes from. */
  #from(mailboxes) {
    if (!this.fromLine) {
      this.fromLine = document.createElement("div");
      this.fromLine.id = "viewer-from";
      this.fromLine.className = "viewer-meta viewer-from";
      document.getElementById("viewer-meta").after(this.fromLine);
    }
    const nodes = [];
    for (const { name, address } of mailboxes) {
      const line = document.createElement("p");
      line.className = "from-mailbox";
      line.append(`${t("viewer.from")}: `);
      if (name) {
        const n = document.createElement("bdi");
        n.className = "from-name";
        n.textContent = name;
        line.append(`${t("viewer.from-name")} `, n, " · ");
      }
      if (address) {
        const a = document.createElement("bdi");
        a.className = "from-address";
        a.dir = "ltr";
        a.textContent = address;
        line.append(`${t("viewer.from-address")} `, a);
      }
      nodes.push(line);
      // A display name that looks like an address other than the message's own: the classic
      // spoof, told in so many words.
      if (name && address && name.includes("@") && !name.toLowerCase().includes(address.toLowerCase())) {
        const warn = para(t("viewer.from-spoof"), "from-spoof");
        warn.dataset.kind = "spoof";
        nodes.push(warn);
      }
    }
    this.fromLine.replaceChildren(...nodes);
    this.fromLine.hidden = nodes.length === 0;
  }

  #placeholder(panel, p) {
    if (!p || p.error) {
      panel.replaceChildren(para(p?.error ? t("viewer.parse-error", { error: p.error }) : t("viewer.parsing"), "muted"));
      return true;
    }
    return false;
  }

  #headers(p) {
    const panel = document.getElementById("panel-headers");
    if (this.#placeholder(panel, p)) return;
    const table = document.createElement("table");
    table.className = "headers";
    const caption = document.createElement("caption");
    caption.className = "visually-hidden";
    caption.textContent = t("viewer.headers");
    table.append(caption);
    for (const h of p.headers) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.dir = "ltr";
      th.textContent = h.name;
      const td = document.createElement("td");
      td.dir = "auto";
      td.textContent = h.value;
      tr.append(th, td);
      table.append(tr);
    }
    panel.replaceChildren(table);
  }

  #text(p) {
    const panel = document.getElementById("panel-text");
    if (this.#placeholder(panel, p)) return;
    if (p.text == null) {
      panel.replaceChildren(para(p.html ? t("viewer.only-html") : t("viewer.no-text"), "muted"));
      return;
    }
    if (p.text === "" && !p.html) {
      panel.replaceChildren(para(t("viewer.empty-body"), "muted empty-body"));
      return;
    }
    const pre = document.createElement("pre");
    pre.className = "message-text";
    pre.dir = "auto";
    const long = p.text.length > TEXT_MAX && !this.showAll;
    pre.textContent = long ? p.text.slice(0, TEXT_MAX) : p.text;
    const nodes = [pre];
    if (long || p.textTruncated) {
      const note = para(t("viewer.text-cut", { shown: formatBytes(Math.min(TEXT_MAX, p.text.length)), total: formatBytes(p.textLength ?? p.text.length) }), "muted");
      nodes.push(note);
      if (long) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "small";
        b.textContent = t("viewer.show-all");
        b.addEventListener("click", () => {
          this.showAll = true;
          this.#text(p);
          this.showAll = false;
        });
        note.append(" ", b);
      }
    }
    panel.replaceChildren(...nodes);
  }

  async #html(p) {
    const panel = document.getElementById("panel-html");
    if (!p?.html) {
      panel.replaceChildren();
      return;
    }
    const current = this.current;
    let inert;
    try {
      inert = await inertInWorker(p.html);
    } catch (error) {
      if (this.current === current) {
        panel.replaceChildren(para(t("viewer.parse-error", { error: String(error?.message || error) }), "muted"));
      }
      return;
    }
    if (this.current !== current) return; // another message is shown by now
    const { doc, removed } = inert;
    const note = para(t("viewer.html-note"), "html-note");
    const list = document.createElement("ul");
    list.className = "removed";
    for (const [kind, count] of Object.entries(removed)) {
      if (!count) continue;
      const li = document.createElement("li");
      li.textContent = t(`viewer.removed-${kind}`, { count });
      li.dataset.kind = kind;
      list.append(li);
    }
    if (!list.childElementCount) {
      const li = document.createElement("li");
      li.textContent = t("viewer.removed-none");
      list.append(li);
    }
    const frame = document.createElement("iframe");
    frame.className = "html-frame";
    frame.setAttribute("sandbox", "");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.title = t("viewer.html-frame");
    frame.srcdoc = doc;
    panel.replaceChildren(note, list, frame);
  }

  #parts(p) {
    const panel = document.getElementById("panel-parts");
    if (this.#placeholder(panel, p)) return;
    const ul = document.createElement("ul");
    ul.className = "parts";
    for (const part of p.parts) {
      const li = document.createElement("li");
      const depth = String(part.path).split(".").length - 1;
      li.style.setProperty("--depth", String(depth));
      const path = document.createElement("code");
      path.dir = "ltr";
      path.textContent = part.path;
      const type = document.createElement("code");
      type.dir = "ltr";
      type.className = "ctype";
      type.textContent = part.contentType;
      li.append(path, " ", type);
      if (part.filename) {
        const f = document.createElement("bdi");
        f.className = "filename";
        f.textContent = part.filename;
        li.append(" ", f);
      }
      if (part.contentId) {
        // What the HTML's cid: URL names (RFC 2392): the picture of a multipart/related mail.
        const cid = document.createElement("code");
        cid.dir = "ltr";
        cid.className = "content-id";
        cid.textContent = `cid:${part.contentId}`;
        li.append(" ", cid);
      }
      if (part.subject != null) {
        const s = document.createElement("bdi");
        s.className = "enclosed-subject";
        s.textContent = part.subject;
        li.append(` · ${t("viewer.part-message")} `, s);
      }
      if (part.size > 0) li.append(` · ${formatBytes(part.size)}`);
      ul.append(li);
    }
    const nodes = [ul];
    if (p.parts.length > 1) nodes.unshift(para(t("viewer.parts-note"), "muted"));
    panel.replaceChildren(...nodes);
  }

  #raw(m) {
    const panel = document.getElementById("panel-raw");
    const pre = document.createElement("pre");
    pre.className = "raw-source";
    pre.dir = "ltr";
    pre.textContent = decoder.decode(this.raw);
    const nodes = [para(t("viewer.raw-note"), "muted"), pre];
    if (m.octets > RAW_MAX) {
      nodes.push(para(t("viewer.raw-cut", { shown: formatBytes(RAW_MAX), total: formatBytes(m.octets) }), "muted"));
    }
    panel.replaceChildren(...nodes);
  }
}

function para(text, cls) {
  const p = document.createElement("p");
  if (cls) p.className = cls;
  p.textContent = text;
  return p;
}

let worker = null;
let workerSeq = 0;
const waiting = new Map();

/** Sends one request to the parse worker (parse-worker.js) and resolves with its answer. */
function askWorker(request, transfer = []) {
  if (!worker) {
    worker = new Worker(new URL("./parse-worker.js", import.meta.url), { type: "module" });
    worker.addEventListener("message", (e) => {
      const w = waiting.get(e.data.id);
      if (!w) return;
      waiting.delete(e.data.id);
      if (e.data.error) w.reject(new Error(e.data.error));
      else w.resolve(e.data.result);
    });
    worker.addEventListener("error", () => {
      for (const w of waiting.values()) w.reject(new Error("the parser worker failed"));
      waiting.clear();
      worker = null;
    });
  }
  const id = ++workerSeq;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ ...request, id }, transfer);
  });
}

/** parseMessage() in the worker (the bytes are transferred, not copied). */
function parseInWorker(bytes, max) {
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  return askWorker({ op: "parse", bytes: own, max }, [own.buffer]);
}

/** inertHtml() in the worker: `{ doc, removed }` for a sandboxed srcdoc frame. */
function inertInWorker(html) {
  return askWorker({ op: "inert", html });
}
