// Which routes answer without an API key. Every route needs a key (when the server has keys)
// unless it was registered with PUBLIC_ROUTE: deny by default.

/** Route options that let a route answer without an API key (health, the web UI's files). */
export const PUBLIC_ROUTE = { config: { public: true } } as const;

/** Whether a matched route's config marks it public. */
export function isPublicRoute(config: unknown): boolean {
  return (config as { public?: unknown } | undefined)?.public === true;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Answers without an API key (see PUBLIC_ROUTE). */
    public?: boolean;
  }
}
