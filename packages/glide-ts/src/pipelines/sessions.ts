// Compiled graphs of a model, built on first use and kept: graph shapes are static, so there is one
// session per batch size (and, for an upsampler, low-res size), per session options.

import { ClipModel } from "../clip/model.ts";
import type { GlideModel } from "../glide/model.ts";
import type { Int8Plan, Precision } from "../int8/plan.ts";
import { int8Rewrite } from "../int8/quantize-graph.ts";
import { type CompiledGraph, SessionCache, type SessionOptions } from "../runtime/session.ts";

interface UNetKey {
  batch: number;
  lowResSize: number | null;
  session: SessionOptions;
  precision: Precision;
}
interface TextKey {
  batch: number;
  session: SessionOptions;
}

export class ModelSessions {
  private readonly text: SessionCache<TextKey>;
  private readonly unets: SessionCache<UNetKey>;
  /** The model's int8 plan (one per model: pipelines/int8-plan.ts), given with the first int8 request. */
  private int8Plan: Int8Plan | null = null;

  constructor(readonly model: GlideModel) {
    this.text = new SessionCache((k) => model.compileTextEncoder(k.batch, k.session));
    this.unets = new SessionCache((k) =>
      model.compileUNet(k.batch, {
        ...k.session,
        lowResSize: k.lowResSize ?? undefined,
        rewrite: k.precision === "int8" && this.int8Plan ? int8Rewrite(this.int8Plan) : null,
      }),
    );
  }

  textEncoder(batch: number, session: SessionOptions = {}): Promise<CompiledGraph> {
    return this.text.get({ batch, session: sessionKey(session) });
  }

  unet(
    batch: number,
    options: { lowResSize?: number; session?: SessionOptions; int8?: Int8Plan | null } = {},
  ): Promise<CompiledGraph> {
    if (options.int8) this.int8Plan = options.int8;
    return this.unets.get({
      batch,
      lowResSize: options.lowResSize ?? null,
      session: sessionKey(options.session ?? {}),
      precision: options.int8 ? "int8" : "fp32",
    });
  }

  async release(): Promise<void> {
    await this.text.clear();
    await this.unets.clear();
  }
}

/** The options in a fixed key order, so equal options find the same cached session. */
function sessionKey({ threads, executionProvider, spinning, keepRunMemory }: SessionOptions): SessionOptions {
  return { threads, executionProvider, spinning, keepRunMemory };
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

/** A CLIP model's text and guidance-gradient graphs, per batch size and session options. */
export class ClipSessions {
  private readonly text: SessionCache<TextKey>;
  private readonly guidance: SessionCache<TextKey>;

  constructor(readonly model: ClipModel) {
    this.text = new SessionCache((k) => model.compileText(k.batch, k.session));
    this.guidance = new SessionCache((k) => model.compileGuidance(k.batch, k.session));
  }

  textEncoder(batch: number, session: SessionOptions = {}): Promise<CompiledGraph> {
    return this.text.get({ batch, session: sessionKey(session) });
  }

  guidanceGradient(batch: number, session: SessionOptions = {}): Promise<CompiledGraph> {
    return this.guidance.get({ batch, session: sessionKey(session) });
  }

  async release(): Promise<void> {
    await this.text.clear();
    await this.guidance.clear();
  }
}

const byClip = new WeakMap<ClipModel, ClipSessions>();

/** The sessions of a CLIP model, shared by every guided run that uses it. */
export function clipSessionsOf(model: ClipModel): ClipSessions {
  let sessions = byClip.get(model);
  if (!sessions) {
    sessions = new ClipSessions(model);
    byClip.set(model, sessions);
  }
  return sessions;
}

/** Frees the onnxruntime sessions compiled for `model` (they are rebuilt if it is used again). */
export async function releaseSessions(model: GlideModel | ClipModel): Promise<void> {
  if (model instanceof ClipModel) {
    await byClip.get(model)?.release();
    byClip.delete(model);
    return;
  }
  await byModel.get(model)?.release();
  byModel.delete(model);
}
