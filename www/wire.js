// "What is on the wire": beside the transcript, the octets that cross the network between the
// bridge and the server, as someone on that path sees them, next to the plaintext the page
// sees. In the clear they are the transcript's own octets (the latest line each way, as hex);
// under TLS the page sees only plaintext (the bridge does the TLS), so the octets come from
// the bridge's `wire` messages (the JS API's onWire: the start of the latest TLS record each
// way, the handshake's first octets, the counts; record headers read by the engine). Opened
// with the transcript toolbar's "On the wire" button; under TLS its "Read the record headers"
// button says what each sample's first five octets mean. It tells lessons (the document event
// `popwire:wire` { tls }): { tls: false } while it is open in the clear (seen as wire.plain),
// { tls: true } when the student presses "Read the record headers" under TLS (wire.tls).

import { t, ltr, formatNumber, onLanguageChange } from "./i18n.js";
import { el, coalesced } from "./dom.js";
import { IN_BROWSER } from "./simulated.js";

/** The status line of each thing the view can show. */
const STATUS = {
  none: "wire.none", "in-browser": "wire.in-browser", plain: "wire.plain",
  "tls-waiting": "wire.tls-waiting", tls: "wire.tls",
};

/** The label of each record type the engine names (TlsRecordHeader). */
const RECORD = {
  handshake: "wire.type.handshake", "application-data": "wire.type.application-data",
  alert: "wire.type.alert", "change-cipher-spec": "wire.type.change-cipher-spec", unknown: "wire.type.unknown",
};

/** Most octets shown of a line or of the latest record (the bridge's samples hold up to 128),
 * and of the handshake's first octets. */
const SHOWN = 64;
const SHOWN_FIRST = 32;
const encoder = new TextEncoder();

/** Octets (a Uint8Array) as spaced lower-case hex. */
function hexOf(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bridge's hex string, spaced ("16030100" → "16 03 01 00"). */
function spaced(hex) {
  return (hex.match(/../g) ?? []).join(" ");
}

export class WireView {
  /** @param {object} ctx { session } */
  constructor({ session }) {
    this.session = session;
    this.button = document.getElementById("wire-toggle");
    this.root = document.getElementById("wire-view");
    this.latest = { client: null, server: null }; // the latest entry each way, this connection
    this.sample = null; // the bridge's latest wire sample, this connection
    this.#build();
    this.button.addEventListener("click", () => this.toggle());
    session.addEventListener("connecting", () => {
      this.latest = { client: null, server: null };
      this.sample = null;
      this.renderSoon();
    });
    session.addEventListener("transcript", (e) => {
      const entry = e.detail;
      // The lines of the protocol (a body belongs to its status line, shown above it).
      if (entry.dir === "client") this.latest.client = entry;
      else if (entry.dir === "server" && !entry.explain?.key?.startsWith("body.")) this.latest.server = entry;
      this.renderSoon();
    });
    session.addEventListener("wire", (e) => {
      this.sample = e.detail;
      this.renderSoon();
    });
    session.addEventListener("closed", () => this.renderSoon());
    onLanguageChange(() => this.render());
    this.render();
  }

  get open() {
    return !this.root.hidden;
  }

  toggle(force) {
    const open = force ?? !this.open;
    this.root.hidden = !open;
    this.button.setAttribute("aria-pressed", String(open));
    this.render();
  }

  renderSoon = coalesced(() => this.render());

  #build() {
    const h = el("h3", null);
    h.id = "wire-h";
    this.heading = h;
    this.status = el("p", "wire-status");
    this.status.setAttribute("aria-live", "polite");
    this.dirs = {};
    const grid = el("div", "wire-dirs");
    for (const dir of ["up", "down"]) {
      const box = el("section", "wire-dir");
      box.dataset.dir = dir;
      const title = el("h4", null);
      title.id = `wire-${dir}-h`;
      box.setAttribute("aria-labelledby", title.id);
      const dl = el("dl");
      box.append(title, dl);
      grid.append(box);
      this.dirs[dir] = { box, title, dl };
    }
    this.explain = el("button", "small");
    this.explain.type = "button";
    this.explain.id = "wire-explain";
    this.explain.setAttribute("aria-expanded", "false");
    this.explain.addEventListener("click", () => {
      this.expanded = !this.expanded;
      this.render();
      if (this.root.dataset.mode === "tls") this.#tell(true);
    });
    this.expanded = false; // the record headers are read out
    this.note = el("p", "wire-note muted");
    this.root.append(h, this.status, grid, this.explain, this.note);
  }

  /** Whether the current connection runs over TLS (the session's TLS facts). */
  #tls() {
    try {
      return this.session.client?.tls ?? this.session.tls ?? null;
    } catch {
      return this.session.tls ?? null;
    }
  }

  render() {
    this.button.querySelector("span").textContent = t("wire.toggle");
    this.heading.textContent = t("wire.title");
    this.dirs.up.title.textContent = t("wire.up");
    this.dirs.down.title.textContent = t("wire.down");
    if (!this.open) return;
    const tls = this.#tls();
    const target = this.session.target;
    const hasSession = this.session.client !== null;
    let mode = "none";
    if (hasSession && target === IN_BROWSER) mode = "in-browser";
    else if (hasSession && tls) mode = this.sample ? "tls" : "tls-waiting";
    else if (hasSession) mode = "plain";
    this.root.dataset.mode = mode;
    this.status.textContent = t(STATUS[mode], { version: ltr(tls?.version ?? "") });
    const shown = mode === "plain" || mode === "tls";
    for (const dir of ["up", "down"]) {
      const { box, dl } = this.dirs[dir];
      box.hidden = !shown;
      dl.replaceChildren();
      if (!shown) continue;
      const entry = dir === "up" ? this.latest.client : this.latest.server;
      this.#row(dl, "wire.sees", this.#plaintext(entry));
      if (mode === "plain") this.#plainWire(dl, entry);
      else this.#tlsWire(dl, this.sample[dir]);
    }
    this.explain.hidden = mode !== "tls";
    this.explain.textContent = t(this.expanded ? "wire.explain-hide" : "wire.explain");
    this.explain.setAttribute("aria-expanded", String(this.expanded));
    this.note.textContent = mode === "tls" || mode === "tls-waiting" ? t("wire.source")
      : mode === "plain" ? t("wire.plain-note") : "";
    this.note.hidden = !this.note.textContent;
    if (mode === "plain" && this.latest.server) this.#tell(false);
  }

  /** Tells lessons what the open view shows (wire.plain / wire.tls). */
  #tell(tls) {
    document.dispatchEvent(new CustomEvent("popwire:wire", { detail: { tls } }));
  }

  /** A dt/dd pair; `value` is a node or text. */
  #row(dl, label, value) {
    const dt = el("dt", null, t(label));
    const dd = el("dd");
    dd.append(value);
    dl.append(dt, dd);
    return dd;
  }

  /** What the page sees of an entry: its text as the transcript shows it (secrets masked). */
  #plaintext(entry) {
    if (!entry) return t("wire.nothing");
    const code = el("code", "wire-text", entry.text);
    code.dir = "ltr";
    return code;
  }

  /** In the clear: the entry's own octets (a masked secret's as the transcript shows it). */
  #plainWire(dl, entry) {
    if (!entry) {
      this.#row(dl, "wire.on-wire", t("wire.nothing"));
      return;
    }
    const bytes = entry.masked ? encoder.encode(`${entry.text}\r\n`) : entry.bytes;
    const dd = this.#row(dl, "wire.on-wire", this.#hex(hexOf(bytes), null, SHOWN));
    if (entry.masked) dd.append(el("span", "wire-record", t("wire.masked")));
  }

  /** Under TLS: the bridge's sample of one direction. */
  #tlsWire(dl, side) {
    const latest = this.#row(dl, "wire.on-wire", this.#hex(side.latest, side.latestRecord, SHOWN));
    latest.append(this.#recordText(side.latest, side.latestRecord));
    this.#row(dl, "wire.counts-label", t("wire.counts", {
      octets: formatNumber(side.octets), records: formatNumber(side.records),
    }));
    const first = this.#row(dl, "wire.first", this.#hex(side.first, side.firstRecord, SHOWN_FIRST));
    first.append(this.#recordText(side.first, side.firstRecord));
  }

  /** Hex of a sample (at most `octets` of it, "…" when cut), its record header (5 octets)
   * marked when there is one. */
  #hex(full, record, octets) {
    const hex = full.slice(0, octets * 2);
    const code = el("code", "wire-hex");
    code.dir = "ltr";
    if (record && hex.length >= 10) {
      const mark = el("mark", "wire-header", spaced(hex.slice(0, 10)));
      code.append(mark, ` ${spaced(hex.slice(10))}`);
    } else {
      code.textContent = spaced(hex) || "—";
    }
    if (full.length > hex.length) code.append(" …");
    return code;
  }

  /** "record header: type 17 = application data, version 03 03, 28 octets of body" (the type
   * is the sample's first octet, named by the engine). */
  #recordText(hex, record) {
    if (!record || !this.expanded) return "";
    return el("span", "wire-record", t("wire.record", {
      code: ltr(hex.slice(0, 2)),
      type: t(RECORD[record.type] ?? RECORD.unknown),
      version: ltr(spaced(record.version)),
      length: formatNumber(record.length),
    }));
  }
}
