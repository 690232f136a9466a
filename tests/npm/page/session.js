// The session the test pages run (tests/npm/run.sh): given the package's exports, a whole POP3
// session against the bridge that serves the page (its /bridge WebSocket, target "demo") or
// the packaged in-browser server, reported as JSON in #result for tests/npm/package.test.mjs.

/** The bridge that serves the page, its demo target. */
export const BRIDGE = () => ({ bridge: `ws://${location.host}/bridge`, target: "demo" });

/**
 * Runs CAPA, USER/PASS, STAT, LIST 1, RETR 1 (parsed by the mail module) and QUIT on the
 * server `connect` names (connect()'s options without timeoutMs).
 */
export async function session({ Pop3Client, parseMessage, user, connect = BRIDGE() }) {
  const entries = [];
  const client = await Pop3Client.connect({ ...connect, timeoutMs: 15000 });
  client.onTranscript((e) => entries.push({ dir: e.dir, text: e.text, key: e.explain.key }));
  const greeting = client.greeting;
  const capa = (await client.capa()).map((c) => c.name);
  const userReply = await client.user(user);
  const passReply = await client.pass("pop3");
  const state = client.state;
  const stat = await client.stat();
  const listed = await client.list(1);
  const message = await client.retr(1);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", message.bytes));
  const parsed = parseMessage(message.bytes);
  const quit = await client.quit();
  return {
    greeting: { text: greeting.text, apop: greeting.apopTimestamp !== null },
    capa,
    user: userReply.ok,
    pass: passReply.ok,
    state,
    stat: { count: stat.count, size: stat.size },
    list1: listed.size,
    retr1: { size: message.bytes.length, sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join("") },
    subject: parsed.subject,
    quit: quit.ok,
    closed: client.state,
    transcript: entries,
  };
}

/** Writes what `run()` gave (or how it failed) into #result and marks it done. */
export async function report(run) {
  const out = document.getElementById("result");
  try {
    out.textContent = JSON.stringify({ ok: true, ...(await run()) });
  } catch (e) {
    out.textContent = JSON.stringify({ ok: false, error: `${e.name}: ${e.message}`, kind: e.kind ?? null });
  }
  out.dataset.done = "true";
}
