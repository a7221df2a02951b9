// Counts images skipped as unreadable or corrupt, so a bad file costs one sample, not the run.
import type { SkippedImages } from "./dataset.ts";

export class SkipCounter implements SkippedImages {
  private events = 0;
  private readonly reasons = new Map<string, string>();

  constructor(private readonly onSkip?: (key: string, reason: string) => void) {}

  record(key: string, reason: string): void {
    this.events++;
    if (!this.reasons.has(key)) this.reasons.set(key, reason);
    this.onSkip?.(key, reason);
  }

  get count(): number {
    return this.events;
  }

  get keys(): readonly string[] {
    return [...this.reasons.keys()];
  }

  reason(key: string): string | undefined {
    return this.reasons.get(key);
  }
}
