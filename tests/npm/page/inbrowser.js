// The page without a bundler on the in-browser simulated server: Pop3Client.connect({ target:
// "in-browser" }) over the package's own server-worker.js (popwire/server-worker.js), started
// from node_modules/ by workerUrl; no bridge, no network.
import init, { Pop3Client } from "../node_modules/popwire/popwire.js";
import initMail, { parseMessage } from "../node_modules/popwire/popwire_mail.js";
import { session, report } from "./session.js";

report(async () => {
  await init();
  await initMail();
  const connect = { target: "in-browser", workerUrl: "../node_modules/popwire/server-worker.js" };
  return session({ Pop3Client, parseMessage, user: "npm-in-browser", connect });
});
