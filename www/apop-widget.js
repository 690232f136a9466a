// The APOP lesson's widget (a lesson step's "widget": "apop", docs/lessons.md): APOP's digest
// computed by hand. The timestamp is the one the engine read from this connection's greeting
// (`session.greeting.apopTimestamp`: the page never looks for it in the greeting itself); the
// secret is typed in a masked field; the digest is the engine's (`apopDigest`, RFC 1939 §7:
// MD5 of the timestamp followed by the secret, as lower-case hex). "Compare" sets it beside the
// digest this connection's APOP line actually carried, as the transcript shows it: a digest is
// made to be sent in the clear, so the engine does not mask it (the secret never leaves this
// field). Where the digest sits in that line is the engine's metadata too: the argument of kind
// `digest` of the command the entry's explanation names.
//
// The secret is never logged, stored, or sent anywhere: it stays in its field, which is emptied
// when a new connection begins (its greeting brings another timestamp).
//
// The widget tells the lesson what the student did through `onSeen(key)`: `apop.computed` (a
// digest was computed), `apop.match` / `apop.mismatch` (the comparison's outcome).

import { t, ltr } from "./i18n.js";
import { el } from "./dom.js";
import { apopDigest, commandTable } from "./session.js";

/** The digest of the client line `entry` carries, by the engine's metadata, or null. */
function sentDigest(entry) {
  if (entry.dir !== "client") return null;
  const key = entry.explain?.key;
  const meta = key ? [...commandTable().values()].find((m) => m.summary?.key === key) : null;
  const at = meta ? meta.args.findIndex((a) => a.kind === "digest") : -1;
  if (at < 0) return null;
  // The arguments follow the command, one space each (RFC 1939 §3); the digest is never masked.
  const word = entry.text.split(" ")[at + 1];
  return word ? word.toLowerCase() : null;
}

/** The text of each outcome of a comparison (ui keys). */
const OUTCOMES = {
  match: "apop.match",
  mismatch: "apop.mismatch",
  "no-digest": "apop.no-digest",
  "not-sent": "apop.not-sent",
};

export class ApopWidget {
  /**
   * @param {object} ctx { session, onSeen(key) }
   */
  constructor({ session, onSeen }) {
    this.session = session;
    this.onSeen = onSeen;
    this.digest = null; // the digest computed here, for the timestamp shown
    this.sent = null; // the digest this connection's latest APOP line carried
    this.outcome = null; // "match" | "mismatch" | "no-digest" | "not-sent"
    this.root = this.#build();

    session.addEventListener("connecting", () => {
      this.sent = null;
      this.secret.value = "";
      this.timestamp.value = "";
      this.#forget();
    });
    session.addEventListener("connected", () => {
      this.timestamp.value = session.greeting?.apopTimestamp ?? "";
      this.render();
    });
    session.addEventListener("transcript", (e) => {
      const digest = sentDigest(e.detail);
      if (digest) this.sent = digest;
    });
  }

  #build() {
    const root = el("div", "apop-widget");
    root.id = "apop-widget";
    root.setAttribute("role", "group");
    root.setAttribute("aria-labelledby", "apop-widget-h");
    root.hidden = true;
    this.heading = el("h4");
    this.heading.id = "apop-widget-h";
    this.intro = el("p", "apop-intro");

    const field = (id, type) => {
      const label = el("label", "apop-label");
      const input = el("input");
      input.id = id;
      input.type = type;
      input.autocomplete = "off";
      input.spellcheck = false;
      input.dir = "ltr";
      label.htmlFor = id;
      input.addEventListener("input", () => this.#forget());
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") this.compute();
      });
      return [label, input];
    };
    [this.timestampLabel, this.timestamp] = field("apop-timestamp", "text");
    [this.secretLabel, this.secret] = field("apop-secret", "password");

    this.computeBtn = el("button", "small");
    this.computeBtn.type = "button";
    this.computeBtn.id = "apop-compute";
    this.computeBtn.addEventListener("click", () => this.compute());

    const out = el("p", "apop-digest-line");
    this.digestLabel = el("span");
    this.digestOut = el("output", "apop-digest");
    this.digestOut.id = "apop-digest";
    this.digestOut.dir = "ltr";
    this.digestOut.htmlFor = "apop-timestamp apop-secret";
    out.append(this.digestLabel, " ", this.digestOut);

    this.compareBtn = el("button", "small");
    this.compareBtn.type = "button";
    this.compareBtn.id = "apop-compare";
    this.compareBtn.addEventListener("click", () => this.compare());

    this.result = el("p", "apop-result");
    this.result.id = "apop-result";
    this.result.setAttribute("role", "status");

    root.append(
      this.heading, this.intro, this.timestampLabel, this.timestamp, this.secretLabel, this.secret,
      this.computeBtn, out, this.compareBtn, this.result,
    );
    return root;
  }

  /** A change of the timestamp or the secret: the digest shown no longer belongs to them. */
  #forget() {
    this.digest = null;
    this.outcome = null;
    this.render();
  }

  /** The engine's digest of the timestamp and secret in the fields. */
  compute() {
    const timestamp = this.timestamp.value.trim();
    this.digest = timestamp ? apopDigest(timestamp, this.secret.value) : null;
    this.outcome = null;
    this.render();
    if (this.digest) this.onSeen("apop.computed");
  }

  /** "Do it for me": the connect bar's password as the secret, then compute. */
  computeWith(password) {
    if (!this.secret.value) this.secret.value = password;
    this.compute();
  }

  /** Sets the digest computed here beside the one this connection's APOP line sent. */
  compare() {
    if (!this.digest) this.outcome = "no-digest";
    else if (!this.sent) this.outcome = "not-sent";
    else this.outcome = this.digest === this.sent ? "match" : "mismatch";
    this.render();
    if (this.outcome === "match" || this.outcome === "mismatch") this.onSeen(`apop.${this.outcome}`);
  }

  render() {
    this.heading.textContent = t("apop.title");
    this.intro.textContent = t("apop.intro");
    this.timestampLabel.textContent = t("apop.timestamp");
    this.timestamp.placeholder = t("apop.timestamp-none");
    this.secretLabel.textContent = t("apop.secret");
    this.computeBtn.textContent = t("apop.compute");
    this.digestLabel.textContent = t("apop.digest");
    this.digestOut.textContent = this.digest ?? "—";
    this.compareBtn.textContent = t("apop.compare");
    this.result.dataset.outcome = this.outcome ?? "";
    const vars = { digest: ltr(this.digest ?? ""), sent: ltr(this.sent ?? "") };
    this.result.textContent = this.outcome ? t(OUTCOMES[this.outcome], vars) : "";
  }
}
