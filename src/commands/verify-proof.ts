/**
 * `sonm-rewards verify-proof FILE`: check a proof bundle (`status --proof`) offline. Exit 0 when
 * every receipt holds, 1 naming each report whose receipt does not, 2 when the file cannot be read.
 */
import { readFileSync } from 'node:fs';
import type { CommandContext } from './context.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { verifyProof } from '../uptime/proof.js';

/**
 * Reads the proof bundle named by the one operand (a path; "-" or none: stdin), verifies every
 * receipt offline (verifyProof) and prints the verdict (`--json`: the verification object).
 * docs/protocol.md, "Receipts"; README, "Uptime" ("Receipts and proof"). Returns 0 when every
 * receipt holds, 1 (EXIT.REFUSED) when one does not or the file is not a bundle (or not JSON).
 * Throws UsageError (exit 2) when the file cannot be read.
 */
export async function verifyProofCommand(
  ctx: CommandContext,
  _opts: unknown,
  operands: readonly string[],
): Promise<number> {
  const file = operands[0] ?? '-';
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let bundle: unknown;
  try {
    bundle = JSON.parse(text);
  } catch {
    bundle = null; // reported below as "not a bundle", exit 1: the proof does not hold
  }
  const v = verifyProof(bundle);
  if (ctx.json) {
    ctx.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
    return v.ok ? EXIT.OK : EXIT.REFUSED;
  }
  for (const f of v.failures)
    ctx.stdout.write(`✖ ${f.reportId}${f.index >= 0 ? ` (entry ${f.index + 1})` : ''}: ${f.why}\n`);
  const keys = v.keyIds.join(', ') || 'none';
  if (v.ok) {
    ctx.stdout.write(
      `✔ all ${v.verified} receipts hold: ${v.creditedHours} credited hours, ` +
        `$${v.usd.toFixed(2)}, signed by service key ${keys}.\n`,
    );
    ctx.stdout.write(
      "  Compare the key id with the service's published key (GET /.well-known/jwks.json, or /v1/platform).\n",
    );
    return EXIT.OK;
  }
  ctx.stdout.write(
    `${v.failures.length} receipt(s) do not hold; ${v.verified} do (service key ${keys}).\n`,
  );
  return EXIT.REFUSED;
}
