// The page without a bundler: the package's files as they lie in node_modules/, each module's
// wasm found beside it (init() with no argument: new URL("…_bg.wasm", import.meta.url)).
import init, { Pop3Client } from "../node_modules/popwire/popwire.js";
import initMail, { parseMessage } from "../node_modules/popwire/popwire_mail.js";
import { session, report } from "./session.js";

report(async () => {
  await init();
  await initMail();
  return session({ Pop3Client, parseMessage, user: "npm-plain" });
});
