// The raw-bytes renderer: an entry's wire bytes with CR and LF shown as ␍ ␊, other control
// characters as their pictures, and in a body the dots a server added in front of lines that
// start with "." (byte-stuffing) and the terminating "." line highlighted — where the engine
// says they are (the entry's `wireMarks`); the page does not re-derive the stuffing rule.

import { t } from "./i18n.js";
import { el } from "./dom.js";

const decoder = new TextDecoder("utf-8");

/**
 * Appends the wire bytes of an entry to `container`, a line at a time: CR and LF shown as ␍ ␊,
 * and with `marks` (an entry's `wireMarks`) the stuffed dots and the terminator highlighted.
 * `maxLines` cuts a collapsed body.
 */
export function renderRaw(container, bytes, { marks = null, maxLines = Infinity } = {}) {
  const stuffed = new Set(marks?.stuffedDots ?? []);
  const terminator = marks?.terminator ?? -1;
  const frag = document.createDocumentFragment();
  let start = 0;
  for (let n = 0; n < maxLines && start < bytes.length; n++) {
    const lf = bytes.indexOf(10, start);
    const end = lf === -1 ? bytes.length : lf;
    const hasCr = end > start && bytes[end - 1] === 13;
    let from = start;
    if (start === terminator) {
      const dot = el("mark", "terminator", ".");
      dot.title = t("raw.terminator");
      frag.append(dot);
      from = start + 1;
    } else if (stuffed.has(start)) {
      const dot = el("mark", "stuffed", ".");
      dot.title = t("raw.stuffed");
      frag.append(dot);
      from = start + 1;
    }
    frag.append(visible(decoder.decode(bytes.subarray(from, hasCr ? end - 1 : end))));
    if (hasCr) frag.append(controlPicture("␍", "C", "R"));
    if (lf !== -1) frag.append(controlPicture("␊", "L", "F"));
    start = lf === -1 ? bytes.length : lf + 1;
    if (n + 1 < maxLines && start < bytes.length) frag.append("\n");
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
