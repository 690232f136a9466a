// The sequence diagram dialog (the transcript's "Sequence diagram" button): the live session
// drawn by sequence.js, or an exported one opened from its JSON file (what an instructor
// replays on the projector); saved as popwire-sequence.svg.

import { t, onLanguageChange } from "./i18n.js";
import { readExport, sequenceSvg, svgText } from "./sequence.js";

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
    document.getElementById("sequence-import").addEventListener("change", (e) => this.#import(e.target));
    onLanguageChange(() => { if (this.dialog.open) this.render(); });
  }

  /** Shows the diagram of `source` (an export), or of the live session. */
  open(source) {
    this.source = source;
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
    const { svg, counts } = sequenceSvg(data);
    this.svg = svg;
    this.figure.replaceChildren(svg);
    this.figure.dataset.requests = String(counts.requests);
    this.figure.dataset.replies = String(counts.replies);
    this.figure.dataset.source = this.source ? "imported" : "live";
    const empty = counts.requests + counts.replies + counts.notes + counts.bodies === 0;
    this.#say(empty ? t("sequence.empty") : t(this.source ? "sequence.showing-imported" : "sequence.showing-live"), false);
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
