// Compiled graphs of a model, built on first use and kept: graph shapes are static, so there is one
// session per batch size (and, for an upsampler, low-res size), per thread count.

import type { GlideModel } from "../glide/model.ts";
import { type CompiledGraph, SessionCache } from "../runtime/session.ts";

interface UNetKey {
  batch: number;
  lowResSize: number | null;
  threads: number | null;
}
interface TextKey {
  batch: number;
  threads: number | null;
}

export class ModelSessions {
  private readonly text: SessionCache<TextKey>;
  private readonly unets: SessionCache<UNetKey>;

  constructor(readonly model: GlideModel) {
    this.text = new SessionCache((k) => model.compileTextEncoder(k.batch, { threads: k.threads ?? undefined }));
    this.unets = new SessionCache((k) =>
      model.compileUNet(k.batch, { threads: k.threads ?? undefined, lowResSize: k.lowResSize ?? undefined }),
    );
  }

  textEncoder(batch: number, threads?: number): Promise<CompiledGraph> {
    return this.text.get({ batch, threads: threads ?? null });
  }

  unet(batch: number, options: { lowResSize?: number; threads?: number } = {}): Promise<CompiledGraph> {
    return this.unets.get({ batch, lowResSize: options.lowResSize ?? null, threads: options.threads ?? null });
  }

  async release(): Promise<void> {
    await this.text.clear();
    await this.unets.clear();
  }
}

const byModel = new WeakMap<GlideModel, ModelSessions>();

/** The sessions of `model`, shared by every pipeline call that uses it. */
export function sessionsOf(model: GlideModel): ModelSessions {
  let sessions = byModel.get(model);
  if (!sessions) {
    sessions = new ModelSessions(model);
    byModel.set(model, sessions);
  }
  return sessions;
}

/** Frees the onnxruntime sessions compiled for `model` (they are rebuilt if it is used again). */
export async function releaseSessions(model: GlideModel): Promise<void> {
  await byModel.get(model)?.release();
  byModel.delete(model);
}
