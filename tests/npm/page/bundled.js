// The bundled page's entry (esbuild --bundle --format=esm --loader:.wasm=file): the package
// imported by name, each wasm module imported as a file so that esbuild copies it into the
// output and gives its URL to init().
import init, { Pop3Client } from "popwire";
import initMail, { parseMessage } from "popwire/mail";
import wasmUrl from "popwire/popwire_bg.wasm";
import mailWasmUrl from "popwire/popwire_mail_bg.wasm";
import { session, report } from "./session.js";

report(async () => {
  await init({ module_or_path: wasmUrl });
  await initMail({ module_or_path: mailWasmUrl });
  return session({ Pop3Client, parseMessage, user: "npm-bundled" });
});
