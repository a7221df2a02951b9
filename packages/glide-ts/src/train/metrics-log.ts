// The JSONL metrics log: one object per line, appended as training goes.
import { appendFile, readFile, rename, rm, writeFile } from "node:fs/promises";
import { GlideError } from "../errors.ts";

export interface MetricsRecord {
  step: number;
  kind: "train" | "validation" | "probe";
  [key: string]: unknown;
}

export class MetricsLog {
  constructor(readonly path: string) {}

  async append(record: MetricsRecord): Promise<void> {
    try {
      await appendFile(this.path, `${JSON.stringify(record)}\n`);
    } catch (error) {
      throw new GlideError(`cannot write ${this.path}: ${(error as Error).message}`);
    }
  }

  /** Reads every record (an unterminated last line from a killed run is ignored). */
  async read(): Promise<MetricsRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch {
      return [];
    }
    const records: MetricsRecord[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as MetricsRecord);
      } catch {
        // A line cut short by a kill: everything after the last checkpoint is redone anyway.
      }
    }
    return records;
  }

  /** On resume: drop what a killed run logged after its last checkpoint (atomic rewrite). */
  async truncateAfter(step: number): Promise<void> {
    const kept = (await this.read()).filter((r) => r.step <= step);
    const temp = `${this.path}.tmp`;
    try {
      await writeFile(temp, kept.map((r) => `${JSON.stringify(r)}\n`).join(""));
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw new GlideError(`cannot rewrite ${this.path}: ${(error as Error).message}`);
    }
  }
}
