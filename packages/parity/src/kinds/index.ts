// The case kinds the parity tool runs: the one place a new kind is registered. A manifest case
// whose kind is not here fails the run unless the caller excludes that kind.

import type { CaseKind } from "../types.ts";
import { clipKind } from "./clip.ts";
import { clipSampleKind } from "./clip-sample.ts";
import { clipShapesKind } from "./clip-shapes.ts";
import { clipTokenizerKind } from "./clip-tokenizer.ts";
import { forwardKind } from "./forward.ts";
import { lossKind } from "./loss.ts";
import { sampleKind } from "./sample.ts";
import { scheduleKind } from "./schedule.ts";
import { tokenizerKind } from "./tokenizer.ts";

export const CASE_KINDS: readonly CaseKind[] = [
  tokenizerKind,
  scheduleKind,
  forwardKind,
  sampleKind,
  lossKind,
  clipTokenizerKind,
  clipShapesKind,
  clipKind,
  clipSampleKind,
];
