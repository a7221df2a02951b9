// What the page noted about each job it submitted (caption, options as typed), by job id, in
// localStorage: the server's job list does not carry them. Notes of jobs the server no longer
// keeps are dropped; without storage (blocked) they last for the page.
import type { RunNote } from "./backend.ts";

const STORAGE_KEY = "glide-ts.runNotes";
const MAX_NOTES = 200;

export class RunNotes {
  private memory: Record<string, RunNote> = {};

  get(id: string): RunNote | null {
    return this.read()[id] ?? null;
  }

  set(id: string, note: RunNote): void {
    const notes = this.read();
    notes[id] = note;
    const ids = Object.keys(notes);
    for (const old of ids.slice(0, Math.max(0, ids.length - MAX_NOTES))) delete notes[old];
    this.write(notes);
  }

  /** Forgets the notes of the jobs not in `ids`. */
  keepOnly(ids: readonly string[]): void {
    const notes = this.read();
    const kept = new Set(ids);
    for (const id of Object.keys(notes)) if (!kept.has(id)) delete notes[id];
    this.write(notes);
  }

  private read(): Record<string, RunNote> {
    try {
      const text = globalThis.localStorage?.getItem(STORAGE_KEY);
      return text ? (JSON.parse(text) as Record<string, RunNote>) : { ...this.memory };
    } catch {
      return { ...this.memory };
    }
  }

  private write(notes: Record<string, RunNote>): void {
    this.memory = notes;
    try {
      globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(notes));
    } catch {
      // full or blocked: kept in memory
    }
  }
}
