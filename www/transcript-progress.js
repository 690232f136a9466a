// The progress bar of a streaming RETR / TOP (shown for bodies of 64 KiB or more): received of
// expected octets (LIST's size when the engine has none), indeterminate without a size, "done"
// for five seconds once the body is in.

import { t, formatBytes } from "./i18n.js";
import { commandTable } from "./session.js";

/** The engine's reading of a command's +OK ("message" for RETR, "head" for TOP). */
function readingOf(command) {
  return commandTable().get(command)?.reading;
}

const PROGRESS_MIN = 64 * 1024; // show the bar for bodies at least this large

export class TransferProgress {
  /** @param {{ sizeOf: (id: number) => number|null }} ctx LIST's size of a message, if known */
  constructor({ sizeOf }) {
    this.sizeOf = sizeOf;
    this.prog = null;
    this.frame = 0;
    this.timer = 0;
  }

  /** A `progress` event of the session. */
  update(p) {
    const reading = readingOf(p.command);
    if (reading !== "message" && reading !== "head") return;
    // LIST's size is the whole message's: a head's expected size is unknown.
    const expected = p.expected ?? (reading === "message" ? this.sizeOf(p.id) : null);
    if (!this.prog || this.prog.handle !== p.handle) {
      this.prog = { handle: p.handle, command: p.command, id: p.id, received: 0, expected, done: false };
    }
    this.prog.received = p.received;
    this.prog.expected = expected;
    if ((expected ?? 0) < PROGRESS_MIN && p.received < PROGRESS_MIN) return;
    this.prog.shown = true;
    this.#schedule();
  }

  /** A body entry arrived in the transcript: the transfer is done. */
  bodyArrived(entry) {
    const p = this.prog;
    if (!p || p.done) return;
    p.done = true;
    if (p.expected) p.received = Math.max(p.received, Math.min(entry.totalBytes, p.expected));
    if (!p.shown) return;
    this.render();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.prog === p) {
        p.shown = false;
        this.render();
      }
    }, 5000);
  }

  /** A `result` event of the session: a failed RETR / TOP hides its bar. */
  resultDone(detail) {
    if (detail.command === this.prog?.command && !this.prog.done) {
      if (!detail.ok) {
        this.prog.shown = false;
        this.render();
      }
    }
  }

  #schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draws the bar (also when the language changes). */
  render() {
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
}
