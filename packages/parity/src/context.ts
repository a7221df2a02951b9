// The shared state of one parity run: where files are, and the manifest's models, each loaded
// once (a sampling case reuses the model of the forward case it names).

import { isAbsolute, join } from "node:path";
import type { SessionOptions } from "glide-ts";
import { GlideModel, loadCheckpointFile, resolveConfig } from "glide-ts";
import { stringField } from "./manifest.ts";
import { type LoadedModel, type Manifest, ParityCaseError, type ParityContext } from "./types.ts";

export function createContext(dir: string, manifest: Manifest, session: SessionOptions): ParityContext {
  const models = new Map<string, Promise<LoadedModel>>();
  const resolve = (file: string) => (isAbsolute(file) ? file : join(dir, file));

  async function load(name: string): Promise<LoadedModel> {
    const entry = manifest.cases[name];
    if (!entry) throw new ParityCaseError(`the manifest has no model case '${name}'`);
    if (typeof entry.config !== "object" || entry.config === null) {
      throw new ParityCaseError(`case '${name}' is not a model case: it has no 'config'`);
    }
    const config = resolveConfig(entry.config as Record<string, unknown>);
    const checkpoint = stringField({ name, kind: "forward", entry }, "checkpoint");
    const { stateDict } = await loadCheckpointFile(resolve(checkpoint));
    return { name, config, model: GlideModel.fromStateDict(config, stateDict, checkpoint) };
  }

  return {
    dir,
    manifest,
    resolve,
    session,
    model(name) {
      let loaded = models.get(name);
      if (!loaded) {
        loaded = load(name);
        models.set(name, loaded);
      }
      return loaded;
    },
  };
}
