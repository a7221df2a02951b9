// Loaded before every test file (scripts/run-tests.ts passes it with --import): the tests run the
// core on the Node platform, as the `glide-ts` entry point does for applications.
import "../packages/glide-ts/src/platform/node.ts";
