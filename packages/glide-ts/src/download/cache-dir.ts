// Where glide-ts keeps downloaded checkpoints (and anything else worth caching between runs).

import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

/**
 * The default cache directory: `$GLIDE_CACHE`, else `$XDG_CACHE_HOME/glide-ts`, else
 * `~/.cache/glide-ts`. Empty variables count as unset, and a relative `XDG_CACHE_HOME` is ignored
 * (as the XDG base directory specification asks).
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.GLIDE_CACHE) return resolve(env.GLIDE_CACHE);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "glide-ts");
  return join(home, ".cache", "glide-ts");
}

/** An explicit directory (a `--cache-dir` option) made absolute, or the default one. */
export function resolveCacheDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ? resolve(explicit) : defaultCacheDir(env);
}
