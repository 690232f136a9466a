// Copy and export of the transcript: plain text (one line per wire line, with its time and
// direction) or JSON ({ popwire: "transcript", version: 1, sessions: [{ target, startedAt,
// entries }] }). Both use the masked `text` only, never a revealed secret.

import { t } from "./i18n.js";
import { announce } from "./notice.js";
import { el } from "./dom.js";
import { formatTime, isBody } from "./transcript-rows.js";

/** The transcript as text. `rows`: the transcript's records; `sessions`: { target, startedAt }. */
export function exportText(rows, sessions) {
  const out = [];
  let session = -1;
  for (const rec of rows) {
    if (rec.session !== session) {
      session = rec.session;
      const s = sessions[session];
      if (s) out.push(`# popwire transcript: target ${s.target}, ${s.startedAt}`);
    }
    const e = rec.entry;
    const time = formatTime(e.atMs);
    const tag = e.dir === "client" ? "C:" : e.dir === "server" ? "S:" : "--";
    const lines = isBody(e) ? e.text.replace(/\n$/, "").split("\n") : [e.text];
    lines.forEach((line, i) => {
      out.push(`${i === 0 ? time : " ".repeat(time.length)} ${tag} ${line}`);
    });
    if (e.truncated) out.push(`${" ".repeat(time.length)} -- (first ${e.bytes.length} of ${e.totalBytes} octets)`);
  }
  return `${out.join("\n")}\n`;
}

/** The transcript as JSON, one object per session. */
export function exportJson(rows, sessions) {
  const out = sessions.map((s) => ({ ...s, entries: [] }));
  for (const rec of rows) {
    const e = rec.entry;
    const item = {
      seq: e.seq, dir: e.dir, text: e.text, atMs: e.atMs, masked: e.masked,
      truncated: e.truncated, totalBytes: e.totalBytes, explain: e.explain,
    };
    if (rec.rttMs != null) item.rttMs = rec.rttMs;
    out[rec.session]?.entries.push(item);
  }
  return `${JSON.stringify({ popwire: "transcript", version: 1, sessions: out }, null, 2)}\n`;
}

/** Copies `text` to the clipboard (a hidden textarea where the Clipboard API is refused). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  announce(t("transcript.copied"));
}

/** Saves `text` as popwire-transcript.json (kind "json") or popwire-transcript.txt. */
export function download(kind, text) {
  const json = kind === "json";
  const blob = new Blob([text], {
    type: json ? "application/json" : "text/plain;charset=utf-8",
  });
  const url = URL.createObjectURL(blob);
  const a = el("a");
  a.href = url;
  a.download = `popwire-transcript.${json ? "json" : "txt"}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
