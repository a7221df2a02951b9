// Module hook for a checkout: the workspace packages' `glide-ts-source` export condition points
// `glide-ts`, `@glide-ts/eval`… at their TypeScript sources instead of their builds (dist/).
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, "glide-ts-source"] });
}
