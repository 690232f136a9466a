// How a failed command is told to the student: a Pop3Error of the API (or the page's "not
// connected") becomes one message in the notice area (notice.js): the server's own line and
// response code with the engine's explanation, a timeout, a closed connection, refused input.
// (A failed connect has its own messages, in connect.js: they need the bridge's state.)

import { showNotice } from "./notice.js";

/**
 * The message for a failed command (typed or raw): the server's own text and response code
 * with the engine's explanation; timeouts, closed connections, refused input.
 */
/** The text of a refused login by its response code (RFC 2449 §8, RFC 3206). */
const LOGIN_REFUSALS = { AUTH: "error.login.auth", "IN-USE": "error.login.in-use" };

export function showCommandError(error, { command, login = false, session = null } = {}) {
  const kind = error?.kind;
  if (error?.notConnected) {
    showNotice({ level: "warn", kind: "not-connected", title: ["error.not-connected"] });
    return;
  }
  if (kind === "server") {
    const code = error.code;
    const line = serverLine(error);
    if (login) {
      const which = LOGIN_REFUSALS[code] ?? "error.login.other";
      showNotice({
        level: "error", kind: `login:${code || "none"}`,
        title: ["error.login.title"],
        text: [which],
        wire: line,
        why: error.explain?.key,
        hint: which === LOGIN_REFUSALS["IN-USE"] ? null : ["error.login.hint-demo"],
      });
      return;
    }
    showNotice({
      level: "warn", kind: `server:${code || "none"}`,
      title: ["error.server.title", { command }],
      text: ["error.server.text"],
      wire: line,
      why: error.explain?.key,
    });
    return;
  }
  if (kind === "timeout") {
    showNotice({
      level: "error", kind: "timeout",
      title: ["error.timeout.title"],
      text: ["error.timeout.reply", { command, seconds: Math.round((session?.timeoutMs ?? 30000) / 100) / 10 }],
      why: "error.timeout", detail: error.note ?? error.message,
    });
    return;
  }
  if (kind === "network" || kind === "bridge") {
    showNotice({
      level: "error", kind,
      title: ["error.closed.title"],
      text: ["error.closed.text"],
      why: error.explain?.key || "error.network", detail: error.note ?? error.message,
    });
    return;
  }
  const keyed = { state: "error.state", input: "error.input", limit: "error.limit", protocol: "error.protocol" };
  showNotice({
    level: kind === "protocol" || kind === "limit" ? "error" : "warn", kind: kind || "unknown",
    title: [keyed[kind] ? `${keyed[kind]}.title` : "error.unknown.title", { command }],
    why: error?.explain?.key,
    detail: error?.note ?? (error?.message || String(error)),
  });
}

/** The server's -ERR line from the Pop3Error's fields (its response code and own text). */
function serverLine(error) {
  if (error.serverText == null) return null;
  return `-ERR ${error.code ? `[${error.code}] ` : ""}${error.serverText}`;
}
