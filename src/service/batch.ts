/**
 * Reading a report batch: the body's bytes, already authenticated, parsed and validated against
 * the ReportBatch schema of openapi/rewards.openapi.json (ajv, the validator fastify uses), and
 * each report fingerprinted. It runs on the HTTP thread: none of it needs the database, and the
 * ingest worker, which does, is the service's bottleneck (see thread-codec.ts).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { MAX_BATCH, type HourlyReport } from '../protocol/types.js';
import { reportFingerprint } from '../protocol/ids.js';
import { loadOpenApi } from './openapi.js';
import type { FingerprintedReport } from './thread-codec.js';

export type BatchProblem = { status: 400 | 413; slug: string; title: string; detail: string };

let validate: ValidateFunction | null = null;

function validator(): ValidateFunction {
  if (validate) return validate;
  const doc = loadOpenApi();
  const ajv = new Ajv({ allErrors: false, strict: false });
  for (const [name, schema] of Object.entries(doc.components.schemas))
    ajv.addSchema(schema, `#/components/schemas/${name}`);
  validate = ajv.getSchema('#/components/schemas/ReportBatch')!;
  return validate;
}

/**
 * Parse, validate (the ReportBatch schema) and fingerprint a report batch from its raw bytes.
 * Returns the reports, or a problem (400 malformed or invalid, 413 over MAX_BATCH reports);
 * never throws.
 */
export function readBatch(body: Uint8Array): { reports: FingerprintedReport[] } | BatchProblem {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return {
      status: 400,
      slug: 'malformed',
      title: 'Bad request',
      detail: 'the body is not valid JSON',
    };
  }
  const reports = (value as { reports?: unknown } | null)?.reports;
  if (Array.isArray(reports) && reports.length > MAX_BATCH) {
    return {
      status: 413,
      slug: 'batch-too-large',
      title: 'Payload too large',
      detail: `a batch holds at most ${MAX_BATCH} reports; got ${reports.length}`,
    };
  }
  const v = validator();
  if (!v(value)) {
    const e = v.errors?.[0];
    return {
      status: 400,
      slug: 'invalid-request',
      title: 'Bad request',
      detail:
        `body${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}` +
        (e?.params && 'additionalProperty' in e.params
          ? `: ${String(e.params.additionalProperty)}`
          : ''),
    };
  }
  const valid = (value as { reports: HourlyReport[] }).reports;
  return {
    reports: valid.map((r) => {
      const { hash, gpus } = reportFingerprint(r);
      return Object.assign(r, { fingerprint: { hash, gpus } });
    }),
  };
}
