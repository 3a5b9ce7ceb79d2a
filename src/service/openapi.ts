/**
 * The protocol's contract, openapi/rewards.openapi.json, as the service reads it. Loaded by the
 * server (fastify's validation) and by the ingest worker (report batches), so it lives apart
 * from both: the worker must not load fastify.
 */
import { readFileSync } from 'node:fs';

export interface OpenApiDoc {
  components: { schemas: Record<string, Record<string, unknown>> };
}

/** Read openapi/rewards.openapi.json from the package; throws if it is missing or not JSON. */
export function loadOpenApi(): OpenApiDoc {
  return JSON.parse(
    readFileSync(new URL('../../openapi/rewards.openapi.json', import.meta.url), 'utf8'),
  ) as OpenApiDoc;
}
