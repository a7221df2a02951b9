// Part of `npm run build`: bundles the web UI of `glide serve` into dist/web, which an installed
// package serves as it is (esbuild, a devDependency, is not there at run time).
import { fileURLToPath } from "node:url";
import { bundleWebUi, writeWebUi } from "../src/server/web-ui.ts";

const dir = fileURLToPath(new URL("../dist/web/", import.meta.url));
const files = await bundleWebUi();
await writeWebUi(dir, files);
process.stderr.write(`web UI: ${[...files.keys()].join(", ")} → ${dir}\n`);
