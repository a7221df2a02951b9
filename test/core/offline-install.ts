// Installs packed workspace packages into an empty project with no network: `npm ci --offline`
// from a lock file cut out of the repository's own. `npm install --offline` would need each
// dependency's registry metadata in the npm cache, which `npm ci` (CI's install) never fetches;
// the tarballs it fetched are all a locked install needs.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [field: string]: unknown;
}

interface Lock {
  packages: Record<string, LockEntry>;
}

const ROOT = join(import.meta.dirname, "..", "..");

/** "node_modules/a/node_modules/b" → "node_modules/a"; a top-level entry → "". */
function parentOf(key: string): string {
  const at = key.lastIndexOf("/node_modules/");
  return at < 0 ? "" : key.slice(0, at);
}

/**
 * The locked entries `dependencies` of the workspace folder `from` reach, by node's lookup (the
 * folder's own node_modules, then each parent's, then the root's), keyed where they sit in the
 * new project: a workspace's own node_modules becomes the project's.
 */
function lockedClosure(lock: Lock, from: string, dependencies: string[], into: Record<string, LockEntry>): void {
  const visit = (name: string, requester: string) => {
    for (let dir = requester; ; dir = parentOf(dir)) {
      const key = `${dir ? `${dir}/` : ""}node_modules/${name}`;
      const entry = lock.packages[key];
      if (entry && !entry.link) {
        const placed = key.startsWith(`${from}/`) ? key.slice(from.length + 1) : key;
        if (into[placed]) {
          if (into[placed] !== entry) throw new Error(`two locked versions of ${name} would sit at ${placed}`);
          return;
        }
        into[placed] = entry;
        for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(dep, key);
        return;
      }
      if (entry?.link) throw new Error(`${name} is a workspace package: pack it and pass its tarball`);
      if (!dir) return; // an optional dependency the lock left out (another platform's binary)
    }
  };
  for (const name of dependencies) visit(name, from);
}

/**
 * `npm ci --offline` in `project` (which has a package.json naming nothing yet) of the packed
 * workspaces (tarball by folder, e.g. "packages/glide-ts") and extra registry packages the
 * repository's lock holds (e.g. "onnxruntime-web").
 */
export function installOffline(
  project: string,
  tarballs: Record<string, string>,
  extras: string[],
  env: NodeJS.ProcessEnv,
): string {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as Lock;
  const packages: Record<string, LockEntry> = {};
  const rootDependencies: Record<string, string> = {};
  for (const [folder, tarball] of Object.entries(tarballs)) {
    const workspace = lock.packages[folder];
    const manifest = JSON.parse(readFileSync(join(ROOT, folder, "package.json"), "utf8"));
    if (!workspace) throw new Error(`${folder} is not a workspace of the lock`);
    const spec = `file:${basename(tarball)}`;
    execFileSync("cp", [tarball, project]);
    const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
    rootDependencies[manifest.name] = spec;
    packages[`node_modules/${manifest.name}`] = {
      ...workspace,
      resolved: spec,
      integrity,
    };
    const own = Object.keys(workspace.dependencies ?? {}).filter((d) => !isWorkspace(lock, d));
    lockedClosure(lock, folder, own, packages);
  }
  for (const name of extras) {
    const entry = lock.packages[`node_modules/${name}`];
    if (!entry?.version) throw new Error(`the repository's lock has no ${name}`);
    rootDependencies[name] = entry.version;
    lockedClosure(lock, "", [name], packages);
  }
  const manifestPath = join(project, "package.json");
  const manifest = { ...JSON.parse(readFileSync(manifestPath, "utf8")), dependencies: rootDependencies };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  const projectLock = {
    name: manifest.name,
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: manifest.name, dependencies: rootDependencies }, ...packages },
  };
  writeFileSync(join(project, "package-lock.json"), JSON.stringify(projectLock, null, 2));
  return execFileSync("npm", ["ci", "--offline", "--no-audit", "--no-fund"], {
    cwd: project,
    encoding: "utf8",
    env,
    stdio: "pipe",
  });
}

function isWorkspace(lock: Lock, name: string): boolean {
  return lock.packages[`node_modules/${name}`]?.link === true;
}
