// The page's mail worker, on the engine's mail module (pkg/popwire_mail.js, loaded only here):
// - { op: "parse", bytes, max }: parseMessage() off the main thread, for large messages. The
//   bytes arrive transferred; long text and HTML bodies are cut to `max` characters before
//   they are sent back, so that the page never has to copy tens of megabytes.
// - { op: "inert", html }: inertHtml(), the message's HTML cleaned by html5ever + ammonia for
//   the sandboxed frame. The page never parses a message's markup under its own policy.

import init, { inertHtml, parseMessage } from "./pkg/popwire_mail.js";

const ready = init();

function parse(bytes, max) {
  const parsed = parseMessage(bytes);
  for (const field of ["text", "html"]) {
    const value = parsed[field];
    if (typeof value === "string" && value.length > max) {
      parsed[`${field}Length`] = value.length;
      parsed[`${field}Truncated`] = true;
      parsed[field] = value.slice(0, max);
    }
  }
  return parsed;
}

self.addEventListener("message", async (e) => {
  const { id, op } = e.data;
  try {
    await ready;
    let result;
    if (op === "parse") result = parse(e.data.bytes, e.data.max);
    else if (op === "inert") result = inertHtml(e.data.html);
    else throw new Error(`unknown request ${op}`);
    self.postMessage({ id, result });
  } catch (error) {
    self.postMessage({ id, error: String(error?.message || error) });
  }
});
