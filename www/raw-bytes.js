// The raw-bytes renderer: an entry's wire bytes with CR and LF shown as ␍ ␊, other control
// characters as their pictures, and in a body the dot a server added in front of a line that
// starts with "." (byte-stuffing) and the terminating "." line highlighted.

import { t } from "./i18n.js";
import { el } from "./dom.js";

const decoder = new TextDecoder("utf-8");

/**
 * Appends the wire bytes of an entry to `container`: CR and LF shown as ␍ ␊, the dot a server
 * added in front of a line that starts with "." (byte-stuffing) and the terminating "." line
 * highlighted. `maxLines` cuts a collapsed body.
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
