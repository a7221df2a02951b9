// A model file as the pictures it makes name it: its file name and SHA-256, hashed once a process
// (the CLI and the server's workers write the same names into the PNG parameters).
import { basename } from "node:path";
import { sha256File } from "../io/file-digest.ts";
import type { PictureModel } from "../pipelines/picture-parameters.ts";

const digests = new Map<string, Promise<string | undefined>>();

export async function pictureModelOf(checkpoint: string): Promise<PictureModel> {
  if (!digests.has(checkpoint)) {
    digests.set(
      checkpoint,
      sha256File(checkpoint).catch(() => undefined),
    );
  }
  return { name: basename(checkpoint), sha256: await digests.get(checkpoint) };
}
