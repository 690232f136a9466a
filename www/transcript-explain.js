// The explanation panel beside the transcript: the selected row's line, its localised short and
// long explanation, extras (CAPA's capabilities each explained, the round trip) and the RFC
// section it comes from. The texts come from the engine's explanation key (i18n.js explain()).

import { t, explain, rfcUrl } from "./i18n.js";
import { el } from "./dom.js";
import { isBody, shownText } from "./transcript-rows.js";
import { parseCapabilities } from "./session.js";

export class ExplainPanel {
  constructor() {
    this.panel = document.getElementById("explain-panel");
    this.follow = document.getElementById("explain-follow");
  }

  /** Explains the row `rec`; `following`: whether the panel follows the newest reply. */
  show(rec, { following }) {
    const panel = this.panel;
    const e = rec.entry;
    const key = e.explain?.key;
    const ex = explain(key);
    panel.querySelector(".explain-empty").hidden = true;
    const body = panel.querySelector(".explain-body");
    body.hidden = false;
    // Another line: in presenter mode its explanation waits to be revealed again.
    if (body.dataset.key !== (key || "") || body.dataset.seq !== String(e.seq)) panel.classList.remove("revealed");
    body.dataset.key = key || "";
    body.dataset.seq = String(e.seq);
    let line = shownText(rec);
    if (isBody(e)) {
      const lines = line.split("\n");
      line = lines.length > 4 ? `${lines.slice(0, 3).join("\n")}\n…` : line;
    }
    const dirTag = e.dir === "client" ? "C: " : e.dir === "server" ? "S: " : "";
    body.querySelector(".explain-line code").textContent = `${dirTag}${line}`;
    body.querySelector(".explain-short").textContent = ex ? ex.short : key || "";
    body.querySelector(".explain-long").textContent = ex ? ex.long : "";
    const extra = body.querySelector(".explain-extra");
    extra.replaceChildren();
    if (key === "body.CAPA") extra.append(capabilities(e.text));
    if (rec.rttMs != null) extra.append(el("p", "muted", t("transcript.rtt-long", { ms: rec.rttMs })));
    const a = body.querySelector(".explain-rfc a");
    const ref = e.explain?.rfc || "";
    a.textContent = ref;
    const url = rfcUrl(ref);
    if (url) a.href = url; else a.removeAttribute("href");
    body.querySelector(".explain-rfc").hidden = !ref;
    this.follow.hidden = following;
  }

  /** Back to "click a line to see what it means". */
  clear() {
    this.panel.querySelector(".explain-empty").hidden = false;
    this.panel.querySelector(".explain-body").hidden = true;
  }
}

/** CAPA's list as the engine reads it, each capability with its explanation (keys capa.X). */
function capabilities(text) {
  const dl = el("dl", "capabilities");
  for (const { name, args } of parseCapabilities(text)) {
    const ex = explain(`capa.${name}`) || explain("capa.other");
    const dt = el("dt", null, [name, ...args].join(" "));
    dt.dir = "ltr";
    dl.append(dt, el("dd", null, ex ? ex.short : ""));
  }
  return dl;
}
