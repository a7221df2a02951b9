// The released GLIDE checkpoints' names and files: what downloading them (download/checkpoints.ts)
// and checking a downloaded file's digest (known-digests.ts) need. What each one is (kind,
// resolution, parameters, description) is the model catalog's (models/catalog.ts).

/**
 * The released checkpoints' names, as the original repository spells them, and the file of each:
 * what downloading needs. What each one is (kind, resolution, parameters, description) is the model
 * catalog's (models/catalog.ts). The CLIP towers also answer to a spelling without the slash.
 */
export const CHECKPOINTS = {
  base: { file: "base.pt" },
  upsample: { file: "upsample.pt" },
  "base-inpaint": { file: "base_inpaint.pt" },
  "upsample-inpaint": { file: "upsample_inpaint.pt" },
  "clip/image-enc": { file: "clip_image_enc.pt", alias: "clip-image-enc" },
  "clip/text-enc": { file: "clip_text_enc.pt", alias: "clip-text-enc" },
} as const;

export type CheckpointName = keyof typeof CHECKPOINTS;
export const CHECKPOINT_NAMES = Object.keys(CHECKPOINTS) as CheckpointName[];

/** The other spellings of a checkpoint's name (none for most). */
export function checkpointAliases(name: CheckpointName): string[] {
  const entry = CHECKPOINTS[name];
  return "alias" in entry ? [entry.alias] : [];
}

/** Every accepted name, for messages: `base, …, clip/image-enc (or clip-image-enc), …`. */
export function checkpointNamesText(): string {
  const spelled = (n: CheckpointName) => checkpointAliases(n).reduce((text, alias) => `${text} (or ${alias})`, n);
  return CHECKPOINT_NAMES.map(spelled).join(", ");
}

export function isCheckpointName(name: string): name is CheckpointName {
  return Object.hasOwn(CHECKPOINTS, name);
}
