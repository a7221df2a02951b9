// The page `glide serve` serves at /: the UI over the server's own API.
import { startUi } from "./ui/main.ts";
import { ServerBackend } from "./ui/server-backend.ts";

const root = document.getElementById("app");
if (!root) throw new Error("index.html has no #app element");
startUi(root, new ServerBackend());
