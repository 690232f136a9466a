// The sequence diagram of a session: a client lane and a server lane, each command an arrow to
// the server, each reply an arrow back with its round-trip time, a body as a dashed arrow with
// its size, popwire's notes (state changes, TLS) across both lanes; time down the left edge.
// Drawn from the transcript's JSON export ({ popwire: "transcript", sessions: [{ target,
// startedAt, entries }] }), so a live session and an exported one draw alike; saved as SVG.
// Text enters the SVG only through textContent (a server's reply is never markup).

import { t, explain, formatNumber, formatBytes } from "./i18n.js";
import { formatTime, isBody } from "./transcript-rows.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 860;
const CLIENT_X = 170;
const SERVER_X = 800;
const ROW = 30;
const TOP = 64;
/** Most entries drawn: a diagram is for reading, not for a 10,000-message sync. */
export const MAX_ENTRIES = 400;
/** Most characters of a line drawn on an arrow (the rest is in the transcript). */
const LABEL_MAX = 64;

function node(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

/**
 * A translated label: in a right-to-left language its base direction is rtl (so its words and
 * numbers read in order) and its anchor is mirrored (the text still extends the same way).
 */
function label(attrs, text) {
  const rtl = document.documentElement.dir === "rtl";
  const anchor = attrs["text-anchor"] ?? "start";
  const mirrored = { start: "end", end: "start", middle: "middle" }[anchor];
  return node("text", rtl ? { ...attrs, direction: "rtl", "text-anchor": mirrored } : attrs, text);
}

function cut(text) {
  const line = String(text ?? "").split(/\r?\n/)[0];
  return line.length > LABEL_MAX ? `${line.slice(0, LABEL_MAX - 1)}…` : line;
}

/** Reads a transcript export (the object or its JSON text); throws a clear Error if it is not one. */
export function readExport(value) {
  const data = typeof value === "string" ? JSON.parse(value) : value;
  if (data?.popwire !== "transcript" || !Array.isArray(data.sessions)) {
    throw new Error(t("sequence.not-transcript"));
  }
  for (const s of data.sessions) {
    if (!Array.isArray(s?.entries)) throw new Error(t("sequence.not-transcript"));
  }
  return data;
}

/**
 * The diagram of `data` (a transcript export) as an <svg> element; `counts` tells what was drawn
 * ({ requests, replies, bodies, notes, skipped }).
 */
export function sequenceSvg(data) {
  const entries = data.sessions.flatMap((s, i) => [{ session: s, index: i }, ...s.entries]);
  const drawn = entries.slice(0, MAX_ENTRIES);
  const counts = { requests: 0, replies: 0, bodies: 0, notes: 0, skipped: entries.length - drawn.length };
  const height = TOP + drawn.length * ROW + 40;
  const svg = node("svg", {
    xmlns: NS, width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, role: "img",
    "aria-labelledby": "sequence-svg-title", class: "sequence-svg", direction: "ltr",
  });
  svg.append(node("title", { id: "sequence-svg-title" }, t("sequence.title")));
  svg.append(node("style", {}, [
    "text { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 12px; fill: #1f2328; }",
    ".lane { font-family: system-ui, sans-serif; font-size: 14px; font-weight: 700; }",
    ".time, .rtt { fill: #57606a; font-size: 11px; }",
    ".note { font-family: system-ui, sans-serif; fill: #5a3e8a; }",
    "line.life { stroke: #8c959f; stroke-dasharray: 4 4; }",
    "line.req { stroke: #0a58ca; stroke-width: 1.5; }",
    "line.rep { stroke: #1a7f37; stroke-width: 1.5; }",
    "line.err { stroke: #cf222e; }",
    "line.body { stroke: #1a7f37; stroke-dasharray: 6 3; }",
    "g.later { opacity: 0.2; }",
    "g.current text { font-weight: 700; }",
    "rect.current-mark { fill: #fff3bf; }",
  ].join("\n")));
  const defs = node("defs");
  for (const [id, color] of [["arrow-req", "#0a58ca"], ["arrow-rep", "#1a7f37"], ["arrow-err", "#cf222e"]]) {
    const marker = node("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" });
    marker.append(node("path", { d: "M0,0 L10,5 L0,10 z", fill: color }));
    defs.append(marker);
  }
  svg.append(defs);
  svg.append(node("rect", { x: 0, y: 0, width: WIDTH, height, fill: "#ffffff" }));
  svg.append(label({ x: CLIENT_X, y: 24, "text-anchor": "middle", class: "lane" }, t("sequence.client")));
  svg.append(label({ x: SERVER_X - 20, y: 24, "text-anchor": "middle", class: "lane" }, t("sequence.server")));
  svg.append(node("line", { x1: CLIENT_X, y1: 34, x2: CLIENT_X, y2: height - 20, class: "life" }));
  svg.append(node("line", { x1: SERVER_X, y1: 34, x2: SERVER_X, y2: height - 20, class: "life" }));

  drawn.forEach((e, i) => {
    const y = TOP + i * ROW;
    const g = node("g", { "data-index": i });
    if (e.session) {
      g.setAttribute("class", "session");
      g.append(label({ x: (CLIENT_X + SERVER_X) / 2, y: y + 4, "text-anchor": "middle", class: "note" },
        t("sequence.session", { target: e.session.target ?? "", started: e.session.startedAt ?? "" })));
      svg.append(g);
      return;
    }
    g.append(node("text", { x: 8, y: y + 4, class: "time" }, formatTime(e.atMs ?? 0)));
    if (e.dir === "client") {
      counts.requests += 1;
      g.setAttribute("class", "request");
      g.append(node("line", { x1: CLIENT_X, y1: y, x2: SERVER_X, y2: y + 8, class: "req", "marker-end": "url(#arrow-req)" }));
      g.append(node("text", { x: CLIENT_X + 10, y: y - 4 }, cut(e.text)));
    } else if (e.dir === "server" && isBody(e)) {
      counts.bodies += 1;
      g.setAttribute("class", "body");
      g.append(node("line", { x1: SERVER_X, y1: y, x2: CLIENT_X, y2: y + 8, class: "body", "marker-end": "url(#arrow-rep)" }));
      const lines = String(e.text ?? "").replace(/\r?\n$/, "").split(/\r?\n/).length;
      g.append(label({ x: SERVER_X - 10, y: y - 4, "text-anchor": "end" },
        t("sequence.body", { lines: formatNumber(lines), size: formatBytes(e.totalBytes ?? 0) })));
    } else if (e.dir === "server") {
      counts.replies += 1;
      const err = /^-ERR/.test(e.text ?? "");
      g.setAttribute("class", err ? "reply error" : "reply");
      g.append(node("line", {
        x1: SERVER_X, y1: y, x2: CLIENT_X, y2: y + 8, class: err ? "rep err" : "rep",
        "marker-end": err ? "url(#arrow-err)" : "url(#arrow-rep)",
      }));
      g.append(node("text", { x: SERVER_X - 10, y: y - 4, "text-anchor": "end" }, cut(e.text)));
      if (e.rttMs != null) {
        g.append(label({ x: CLIENT_X - 8, y: y + 12, "text-anchor": "end", class: "rtt" },
          t("sequence.rtt", { ms: formatNumber(Math.round(e.rttMs)) })));
      }
    } else {
      counts.notes += 1;
      g.setAttribute("class", "note");
      // popwire's own notes in the page's language (a state's name is protocol text: as is).
      const key = e.explain?.key ?? "";
      const said = key.startsWith("state.") ? null : explain(key)?.short;
      g.append(said
        ? label({ x: (CLIENT_X + SERVER_X) / 2, y: y + 4, "text-anchor": "middle", class: "note" }, cut(said))
        : node("text", { x: (CLIENT_X + SERVER_X) / 2, y: y + 4, "text-anchor": "middle", class: "note" }, cut(e.text)));
    }
    svg.append(g);
  });
  if (counts.skipped) {
    svg.append(label({ x: (CLIENT_X + SERVER_X) / 2, y: height - 8, "text-anchor": "middle", class: "note" },
      t("sequence.more", { count: formatNumber(counts.skipped) })));
  }
  return { svg, counts, entries: drawn };
}

/**
 * Marks entry `at` of a drawn diagram as the current one of a replay: a band behind it, the
 * entries after it faded (not yet happened).
 */
export function markCurrent(svg, at) {
  svg.querySelector("rect.current-mark")?.remove();
  for (const g of svg.querySelectorAll("g[data-index]")) {
    const i = Number(g.dataset.index);
    g.classList.toggle("current", i === at);
    g.classList.toggle("later", i > at);
  }
  const y = TOP + at * ROW - 16;
  const mark = node("rect", { x: 0, y, width: WIDTH, height: ROW, class: "current-mark" });
  svg.querySelector("text.lane")?.before(mark);
}

/** The SVG as a standalone file's text. */
export function svgText(svg) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}\n`;
}
