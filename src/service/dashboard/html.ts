/**
 * The dashboard's HTML shell: escaping, one stylesheet, the navigation, and the page for an
 * unknown master or rig. Plain server-rendered HTML: every number works without JavaScript, and
 * the Content-Security-Policy allows no script at all.
 */

/** Escape text for HTML element content and quoted attribute values. */
export function esc(s: string | number | null | undefined): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** The Content-Security-Policy of every page: no scripts, no remote anything. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#1b1f24}
h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:20px 0 8px}
nav a{margin-right:12px}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d8dee4;padding:4px 6px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.alert td{background:#fff1f0}.bad{color:#b42318;font-weight:600}.good{color:#1a7f37}.muted{color:#57606a}
svg.chart{width:100%;max-width:720px;height:auto;display:block;margin:8px 0}
svg .grid{stroke:#eaeef2}svg text{font-size:11px;fill:#57606a}svg rect.bar{fill:#2f81f7}
svg .supply{stroke:#2f81f7;stroke-width:2}svg .demand{stroke:#57606a;stroke-dasharray:4 3}
svg .target{stroke:#b42318;stroke-dasharray:6 3}svg text.target{fill:#b42318;stroke:none}svg text.demand{stroke:none}
code{font-size:12px}.badge{padding:1px 6px;border-radius:8px;font-size:12px}
.badge.bad{background:#ffebe9}.badge.good{background:#dafbe1}`;

/** A whole page: `body` is already-escaped HTML. */
export function page(title: string, body: string): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${esc(title)} · SONM rewards</title><style>${STYLE}</style></head><body>` +
    '<nav><a href="/">Fleet</a><span class="muted">SONM rewards · read-only dashboard</span></nav>' +
    `${body}</body></html>`
  );
}

/** The page for something the service does not know (served with 404), or a malformed address (400). */
export function notFoundPage(title: string, detail: string): string {
  return page(
    title,
    `<h1>${esc(title)}</h1><p>${esc(detail)}</p><p><a href="/">Back to the fleet</a></p>`,
  );
}

/** "2019-05-01T12:00:00Z" → "2019-05-01 12:00 UTC". */
export const utc = (iso: string | null): string =>
  iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : 'never';

/** US dollars with cents. */
export const usd = (v: number): string => `$${v.toFixed(2)}`;
