// Tensors as they live on the host; the types are the platform's (src/platform/data-types.ts).
export type { HostDType, HostTensor, StateDict } from "../platform/data-types.ts";
