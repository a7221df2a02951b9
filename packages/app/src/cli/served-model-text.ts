// One line of what a server or worker serves: "model 'x' (generate 32/128, edit unavailable, …)".
import type { ServedModel } from "../server/worker-pool.ts";

export function servedModelText(served: ServedModel): string {
  const sizes = Object.entries(served.sizes)
    .map(
      ([job, s]) =>
        `${job} ${"unavailable" in s ? "unavailable" : [s.base, s.upsampled].filter((x) => x !== null).join("/")}`,
    )
    .join(", ");
  return `model '${served.id}' (${sizes})`;
}
