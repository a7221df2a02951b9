// Where dropout noise comes from. Graphs draw no random numbers themselves (all randomness comes
// from the project's seeded generator), so a training graph takes one uniform-noise input per
// dropout site, and an inference graph has no dropout at all.
import * as g from "../graph/index.ts";

/** Gives the uniform [0, 1) noise for the dropout site `site` (a parameter-scope path), or null for none. */
export interface DropoutNoise {
  noise(site: string, shape: readonly number[]): g.Tensor | null;
}

/**
 * Dropout noise fed as graph inputs named `dropout_noise.<site>`; `inputs` lists them in creation
 * order so a training loop can feed each with uniform noise of its shape.
 */
export class FedDropoutNoise implements DropoutNoise {
  readonly inputs: g.Tensor[] = [];

  noise(site: string, shape: readonly number[]): g.Tensor {
    const t = g.input(`dropout_noise.${site}`, shape);
    this.inputs.push(t);
    return t;
  }
}
