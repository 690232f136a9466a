// parseMessage() off the main thread, for large messages (see viewer.js). The message's
// bytes arrive transferred; long text and HTML bodies are cut to `max` characters before
// they are sent back, so that the page never has to copy tens of megabytes.

import init, { parseMessage } from "./pkg/popwire.js";

const ready = init();

self.addEventListener("message", async (e) => {
  const { id, bytes, max } = e.data;
  try {
    await ready;
    const parsed = parseMessage(bytes);
    for (const field of ["text", "html"]) {
      const value = parsed[field];
      if (typeof value === "string" && value.length > max) {
        parsed[`${field}Length`] = value.length;
        parsed[`${field}Truncated`] = true;
        parsed[field] = value.slice(0, max);
      }
    }
    self.postMessage({ id, parsed });
  } catch (error) {
    self.postMessage({ id, error: String(error?.message || error) });
  }
});
