// The gallery kept in this browser (IndexedDB) for a backend that keeps nothing itself (the
// browser-only build): each finished run's pictures with their seeds and note, the newest
// `MAX_RUNS` of them. Where IndexedDB is unavailable (blocked, private mode) nothing is kept.
import type { ResultPicture, RunNote } from "./backend.ts";

const DATABASE = "glide-ts";
const STORE = "gallery";
const MAX_RUNS = 100;

export interface StoredRun {
  note: RunNote;
  pictures: ResultPicture[];
  /** Unix milliseconds. */
  created: number;
}

export class BrowserGallery {
  readonly where = "in this browser";

  private constructor(private readonly db: IDBDatabase) {}

  /** The store, or null where IndexedDB cannot be opened. */
  static open(): Promise<BrowserGallery | null> {
    return new Promise((resolve) => {
      let request: IDBOpenDBRequest;
      try {
        request = indexedDB.open(DATABASE, 1);
      } catch {
        return resolve(null);
      }
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { autoIncrement: true });
      request.onsuccess = () => resolve(new BrowserGallery(request.result));
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    });
  }

  /** Keeps a run; the oldest beyond MAX_RUNS are forgotten. */
  async add(run: StoredRun): Promise<void> {
    const store = this.db.transaction(STORE, "readwrite").objectStore(STORE);
    await done(store.add(plain(run)));
    const keys = await done(store.getAllKeys());
    for (const key of keys.slice(0, Math.max(0, keys.length - MAX_RUNS))) await done(store.delete(key));
  }

  /** The kept runs, newest first. */
  async list(): Promise<StoredRun[]> {
    const runs = await done(this.db.transaction(STORE, "readonly").objectStore(STORE).getAll());
    return (runs as StoredRun[]).reverse();
  }
}

/** The run as plain data (the note's options may carry Blobs or getters; they are left out). */
function plain(run: StoredRun): StoredRun {
  const { prompt, n, steps, guidance, seed, sampler, upsample } = run.note.options;
  const options = Object.fromEntries(
    Object.entries({ prompt, n, steps, guidance, seed, sampler, upsample }).filter(([, v]) => v !== undefined),
  ) as unknown as RunNote["options"];
  return {
    note: { kind: run.note.kind, caption: run.note.caption, options },
    pictures: run.pictures.map(({ blob, seed: s }) => ({ blob, ...(s === undefined ? {} : { seed: s }) })),
    created: run.created,
  };
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
