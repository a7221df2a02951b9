// The in-browser page (`npm run build:web`): the web UI on the LocalBackend, which runs the core in
// a Web Worker of this page. `window.glideBackend` is the same backend, for scripts and tests.

import { LocalBackend } from "./local/local-backend.ts";
import type { Backend } from "./ui/backend.ts";
import { startUi } from "./ui/main.ts";

const root = document.getElementById("app");
if (!root) throw new Error("index.html has no #app element");
const backend = new LocalBackend({
  workerUrl: new URL("worker.js", import.meta.url),
  baseUrl: new URL("./", import.meta.url),
  search: location.search,
});
(globalThis as { glideBackend?: Backend }).glideBackend = backend;
startUi(root, backend);
