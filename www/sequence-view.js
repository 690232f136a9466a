// The sequence diagram dialog (the transcript's "Sequence diagram" button): the live session
// drawn by sequence.js, or an exported one opened from its JSON file (what an instructor
// replays on the projector); saved as popwire-sequence.svg.

import { t, explain, formatNumber, onLanguageChange } from "./i18n.js";
import { readExport, sequenceSvg, svgText, markCurrent } from "./sequence.js";

export class SequenceView {
  /** @param {{ exportJson: () => string }} transcript the live transcript's JSON export */
  constructor(transcript) {
    this.transcript = transcript;
    this.dialog = document.getElementById("sequence-dialog");
    this.figure = document.getElementById("sequence-figure");
    this.status = document.getElementById("sequence-status");
    this.source = null; // an imported export, or null for the live session
    document.getElementById("sequence-btn").addEventListener("click", () => this.open(null));
    document.getElementById("sequence-live").addEventListener("click", () => this.open(null));
    document.getElementById("sequence-download").addEventListener("click", () => this.download());
    document.getElementById("sequence-back").addEventListener("click", () => this.step(-1));
    document.getElementById("sequence-forward").addEventListener("click", () => this.step(1));
    this.explainEl = document.getElementById("sequence-explain");
    this.at = null; // the replay's current entry (null: the whole session shown)
    document.getElementById("sequence-import").addEventListener("change", (e) => this.#import(e.target));
    onLanguageChange(() => { if (this.dialog.open) this.render(); });
  }

  /** Shows the diagram of `source` (an export), or of the live session. */
  open(source) {
    this.source = source;
    this.at = null;
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
  }

  render() {
    let data;
    try {
      data = this.source ?? readExport(this.transcript.exportJson());
    } catch (error) {
      this.#say(error.message, true);
      return;
    }
    const { svg, counts, entries } = sequenceSvg(data);
    this.svg = svg;
    this.entries = entries;
    this.figure.replaceChildren(svg);
    this.figure.dataset.requests = String(counts.requests);
    this.figure.dataset.replies = String(counts.replies);
    this.figure.dataset.source = this.source ? "imported" : "live";
    const empty = counts.requests + counts.replies + counts.notes + counts.bodies === 0;
    this.#say(empty ? t("sequence.empty") : t(this.source ? "sequence.showing-imported" : "sequence.showing-live"), false);
    this.#renderStep();
  }

  /** Steps the replay forward (+1) or back (-1): one entry at a time, with its explanation. */
  step(delta) {
    if (!this.entries?.length) return;
    const last = this.entries.length - 1;
    this.at = this.at == null ? (delta > 0 ? 0 : last) : Math.min(last, Math.max(0, this.at + delta));
    this.#renderStep();
  }

  #renderStep() {
    const box = this.explainEl;
    const back = document.getElementById("sequence-back");
    const forward = document.getElementById("sequence-forward");
    const total = this.entries?.length ?? 0;
    back.disabled = !total || this.at === 0;
    forward.disabled = !total || this.at === total - 1;
    if (this.at == null || !total) {
      box.hidden = true;
      return;
    }
    markCurrent(this.svg, this.at);
    const e = this.entries[this.at];
    box.hidden = false;
    box.dataset.index = String(this.at);
    box.querySelector(".sequence-step").textContent = t("sequence.step", { n: formatNumber(this.at + 1), total: formatNumber(total) });
    const line = box.querySelector("code");
    line.textContent = e.session ? `${e.session.target ?? ""} · ${e.session.startedAt ?? ""}` : String(e.text ?? "").split(/\r?\n/)[0];
    const ex = e.session ? null : explain(e.explain?.key);
    box.dataset.key = e.explain?.key ?? "";
    box.querySelector(".sequence-short").textContent = ex?.short ?? "";
    box.querySelector(".sequence-long").textContent = ex?.long ?? "";
    this.svg.querySelector(`g[data-index="${this.at}"]`)?.scrollIntoView?.({ block: "nearest" });
  }

  #say(text, error) {
    this.status.textContent = text;
    this.status.dataset.error = String(error);
  }

  async #import(input) {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    try {
      this.open(readExport(await file.text()));
    } catch (error) {
      this.#say(t("sequence.import-failed", { error: error.message }), true);
    }
  }

  download() {
    if (!this.svg) return;
    const url = URL.createObjectURL(new Blob([svgText(this.svg)], { type: "image/svg+xml" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "popwire-sequence.svg";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
}
