// The message viewer: tabs Headers | Text | HTML (safe) | Parts | Raw, from parseMessage().
// Message data is only ever shown with textContent, or — HTML only — inside
// <iframe sandbox="" srcdoc=…> whose document starts with a strict CSP meta
// (default-src 'none'; style-src 'unsafe-inline'; img-src data:). Before that, the HTML is
// parsed inertly (DOMParser runs nothing and loads nothing) and stripped of scripts, event
// handlers and remote references, and the student is told what was removed.
// Large messages are parsed in a module worker so that the page never freezes.

import { parseMessage } from "./session.js";
import { t, formatBytes, onLanguageChange, isRtl } from "./i18n.js";

export const FRAME_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
const RAW_MAX = 256 * 1024; // octets of source shown in the Raw tab
const TEXT_MAX = 256 * 1024; // characters of text shown before "show everything"
const WORKER_OVER = 1024 * 1024; // parse messages larger than this in a worker

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
    onLanguageChange(() => {
      if (this.current) this.#render();
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

  /** Shows a RETR / TOP result: { command, id, lines, bytes, size }. */
  async show(msg) {
    const token = ++this.token;
    document.getElementById("viewer-empty").hidden = true;
    this.body.hidden = false;
    this.current = { ...msg, parsed: null, parsing: true };
    this.raw = msg.bytes.subarray(0, RAW_MAX).slice();
    this.#render();
    let parsed;
    try {
      parsed = msg.bytes.length > WORKER_OVER ? await parseInWorker(msg.bytes) : parseMessage(msg.bytes);
    } catch (error) {
      parsed = { error: String(error?.message || error) };
    }
    if (token !== this.token) return;
    this.current.parsed = parsed;
    this.current.parsing = false;
    this.#render();
  }

  #render() {
    const m = this.current;
    const p = m.parsed;
    const meta = document.getElementById("viewer-meta");
    meta.replaceChildren();
    const cmd = document.createElement("code");
    cmd.dir = "ltr";
    cmd.textContent = m.command === "TOP" ? `TOP ${m.id} ${m.lines}` : `${m.command} ${m.id}`;
    meta.append(cmd, ` · ${formatBytes(m.bytes.length)}`);
    if (m.command === "TOP") meta.append(` · ${t("viewer.top-note", { lines: m.lines })}`);
    if (p?.subject) {
      const subject = document.createElement("bdi");
      subject.textContent = p.subject;
      meta.append(" · ", subject);
    }
    this.body.dataset.command = m.command;
    this.body.dataset.id = String(m.id);
    document.getElementById("tab-html").hidden = !p?.html;
    if (this.tab === "html" && !p?.html) this.tab = "headers";
    this.stale = new Set(["headers", "text", "html", "parts", "raw"]);
    this.select(this.tab);
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

  #html(p) {
    const panel = document.getElementById("panel-html");
    if (!p?.html) {
      panel.replaceChildren();
      return;
    }
    const { doc, removed } = inertHtml(p.html);
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
    if (m.bytes.length > RAW_MAX) {
      nodes.push(para(t("viewer.raw-cut", { shown: formatBytes(RAW_MAX), total: formatBytes(m.bytes.length) }), "muted"));
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

/** parseMessage() in a module worker (the bytes are transferred, not copied). */
function parseInWorker(bytes) {
  if (!worker) {
    worker = new Worker(new URL("./parse-worker.js", import.meta.url), { type: "module" });
    worker.addEventListener("message", (e) => {
      const w = waiting.get(e.data.id);
      if (!w) return;
      waiting.delete(e.data.id);
      if (e.data.error) w.reject(new Error(e.data.error));
      else w.resolve(e.data.parsed);
    });
    worker.addEventListener("error", () => {
      for (const w of waiting.values()) w.reject(new Error("the parser worker failed"));
      waiting.clear();
      worker = null;
    });
  }
  const id = ++workerSeq;
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, bytes: own, max: TEXT_MAX * 4 }, [own.buffer]);
  });
}

const URL_ATTRS = ["src", "href", "action", "formaction", "background", "poster", "srcset", "data",
  "xlink:href", "ping", "cite", "longdesc", "lowsrc", "dynsrc", "manifest", "codebase", "usemap", "imagesrcset"];

/**
 * Makes a message's HTML inert: parsed with DOMParser (which runs no script and loads
 * nothing), then scripts, event handlers, javascript: URLs, remote references, form targets
 * and CSS url()s removed, and the strict CSP meta put first in <head>. Returns the srcdoc
 * text and what was removed, for the student to see.
 */
export function inertHtml(html) {
  // <base> is renamed before parsing: a parsed document inherits the page's CSP
  // (base-uri 'none'), and Chromium would log the refused base URL as an error.
  const doc = new DOMParser().parseFromString(html.replace(/<base\b/gi, "<x-popwire-base"), "text/html");
  const removed = { scripts: 0, handlers: 0, remote: 0, forms: 0, links: 0 };
  for (const n of doc.querySelectorAll("script")) {
    removed.scripts++;
    n.remove();
  }
  for (const n of doc.querySelectorAll("iframe, frame, frameset, object, embed, applet, base, x-popwire-base, link, meta, portal, noscript")) {
    if (!["META", "NOSCRIPT"].includes(n.tagName)) removed.remote++;
    n.remove();
  }
  for (const n of doc.querySelectorAll("style")) {
    const css = n.textContent;
    const clean = stripCssUrls(css);
    if (clean !== css) removed.remote++;
    n.textContent = clean;
  }
  for (const n of doc.querySelectorAll("*")) {
    for (const attr of [...n.attributes]) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase().replace(/[\s\u0000-\u001f]/g, "");
      if (name.startsWith("on")) {
        removed.handlers++;
        n.removeAttribute(attr.name);
      } else if (name === "style") {
        const clean = stripCssUrls(attr.value);
        if (clean !== attr.value) {
          removed.remote++;
          n.setAttribute("style", clean);
        }
      } else if (URL_ATTRS.includes(name)) {
        if (value.startsWith("javascript:") || value.startsWith("vbscript:")) {
          removed.scripts++;
          n.removeAttribute(attr.name);
        } else if (name === "href" && value.startsWith("#")) {
          // an in-page anchor: harmless
        } else if (name === "src" && n.tagName === "IMG" && value.startsWith("data:image/")) {
          // an inline image: allowed by the frame's CSP (img-src data:)
        } else if (name === "action" || name === "formaction") {
          n.removeAttribute(attr.name); // counted with its form below
        } else if (name === "href" && n.tagName === "A") {
          removed.links++;
          n.setAttribute("title", attr.value);
          n.removeAttribute("href");
        } else {
          removed.remote++;
          n.removeAttribute(attr.name);
        }
      }
    }
  }
  // Forms become plain boxes: nothing can be submitted (the sandbox would refuse it anyway).
  for (const form of doc.querySelectorAll("form")) {
    const box = doc.createElement("div");
    box.className = "popwire-inert-form";
    box.append(...form.childNodes);
    form.replaceWith(box);
    removed.forms++;
  }
  for (const b of doc.querySelectorAll("button, input[type=submit], input[type=image]")) {
    b.setAttribute("type", "button");
  }
  const head = doc.head || doc.documentElement.insertBefore(doc.createElement("head"), doc.body);
  const csp = doc.createElement("meta");
  csp.setAttribute("http-equiv", "Content-Security-Policy");
  csp.setAttribute("content", FRAME_CSP);
  const charset = doc.createElement("meta");
  charset.setAttribute("charset", "utf-8");
  const referrer = doc.createElement("meta");
  referrer.setAttribute("name", "referrer");
  referrer.setAttribute("content", "no-referrer");
  head.prepend(csp, charset, referrer);
  return { doc: `<!doctype html>\n${doc.documentElement.outerHTML}`, removed };
}

function stripCssUrls(css) {
  return css
    .replace(/@import[^;]*;?/gi, "")
    .replace(/url\s*\(\s*(['"]?)(?!data:image\/)[^)]*\1\s*\)/gi, "none");
}
