/**
 * The dashboard in a real headless browser: Debian's chromium driven by playwright-core (no
 * browser is downloaded), against the real service binary on loopback with a demo fleet
 * (test/helpers/demo-fleet.ts). Each page's numbers are checked against the JSON API, its charts
 * against their data, and an unknown master must be a clear 404 page. Screenshots of each page
 * are saved under .tmp/screenshots/, or docs/screenshots/ (shown in the README) with
 * `npm run screenshots`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, tempDir } from '../helpers/rig.js';
import { activeProgram } from '../helpers/programs.js';
import {
  hoursAgo,
  startServiceInPast,
  type RunningService,
  type TestRig,
} from '../helpers/service.js';
import { makeDemoFleet, MASTER_A, type DemoFleet } from '../helpers/demo-fleet.js';
import { httpRequest } from '../../src/lib/http.js';

const CHROMIUM = '/usr/bin/chromium';
// The README's screenshots are refreshed only when asked (`npm run screenshots`); an ordinary run
// writes them under the ignored .tmp/, so running the tests never changes tracked files.
const SHOTS = process.env.SONM_REWARDS_UPDATE_SCREENSHOTS
  ? join(ROOT, 'docs', 'screenshots')
  : join(ROOT, '.tmp', 'screenshots');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let svc: RunningService & { at(): number; present(): void };
let fleet: DemoFleet;
let browser: BrowserContext;
let page: Page;

/** The rig's own ledger, as JSON (a signed GET, as the agent makes it). */
async function ledger(rig: TestRig, from: string, to: string) {
  const r = await rig.send('GET', `/v1/rigs/${rig.rigId}/ledger?from=${from}&to=${to}`);
  expect(r.status).toBe(200);
  return r.json as {
    hours: { hour: string; usd: number; connected: boolean }[];
    totals: { hours: number; creditedHours: number; usd: number };
  };
}

const text = (sel: string) => page.locator(sel).first().innerText();
const dollars = (s: string) => Number(s.replace('$', ''));

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in chromium', () => {
  beforeAll(async () => {
    // Rigs enrol and send their verdicts in the past (the service pays no hour before them).
    svc = await startServiceInPast(tempDir('dash-'), 3 * 24 + 2, {
      programs: [activeProgram('2026-01-01T00:00:00Z')],
      demand: { 'RTX 2080 Ti': 10, 'GTX 1080 Ti': 2 },
    });
    fleet = await makeDemoFleet(svc);
    browser = await chromium.launchPersistentContext(tempDir('chromium-'), {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: { width: 1200, height: 900 },
    });
    page = await browser.newPage();
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
  });

  it('fleet: supply per model matches GET /v1/fleet; under-supplied models are marked; charts have data', async () => {
    const res = await page.goto(`${svc.url}/`);
    expect(res!.status()).toBe(200);
    const json = JSON.parse((await httpRequest(`${svc.url}/v1/fleet`, { timeoutMs: 5000 })).body);
    for (const m of json.models) {
      const row = page.locator(`tr[data-model="${m.model}"]`);
      expect(Number(await row.locator('[data-field=gpus]').innerText())).toBe(m.gpus);
      expect(Number(await row.locator('[data-field=devices]').innerText())).toBe(m.devices);
      expect(Number(await row.locator('[data-field=demand]').innerText())).toBe(m.demand);
      expect(await row.locator('[data-field=ratio]').innerText()).toBe(`${m.ratio}×`);
      expect(await row.getAttribute('class')).toBe(m.belowTarget ? 'alert' : '');
    }
    // 12 RTX 2080 Ti credited now (the stopped rig earns nothing) against 2 × 10 wanted.
    expect(json.models.find((m: { model: string }) => m.model === 'RTX 2080 Ti')).toMatchObject({
      gpus: 12,
      belowTarget: true,
    });
    const supply = page.locator('svg.chart polyline.supply');
    expect(await supply.count()).toBe(2);
    expect(Number(await supply.first().getAttribute('data-points'))).toBe(168);
    expect(await page.locator('svg.chart line.target').count()).toBe(2);
    const box = await page.locator('svg.chart').first().boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    await page.screenshot({ path: join(SHOTS, 'fleet.png'), fullPage: true });
  });

  it(
    'master: every rig with the same figures as its JSON ledger; the rig that stopped ' +
      'earning is first, with why',
    async () => {
      const res = await page.goto(`${svc.url}/masters/${MASTER_A.toLowerCase()}`);
      expect(res!.status()).toBe(200);
      const month = new Date().toISOString().slice(0, 7);
      const rigsOfA = fleet.rigs.slice(0, 4);
      let total = 0;
      for (const rig of rigsOfA) {
        const l = await ledger(rig, `${month}-01T00:00:00Z`, hoursAgo(-1));
        const usd = l.hours.reduce((s, h) => s + h.usd, 0);
        total += usd;
        const row = page.locator(`tr[data-rig="${rig.rigId}"]`);
        expect(dollars(await row.locator('[data-field=usd-month]').innerText())).toBeCloseTo(
          usd,
          2,
        );
        const last24 = await ledger(rig, hoursAgo(24), hoursAgo(0));
        expect(await row.locator('[data-field=share24h]').innerText()).toBe(
          `${Math.round((last24.hours.filter((h) => h.connected).length / 24) * 100)}%`,
        );
      }
      expect(dollars(await text('[data-field=usd-month-total]'))).toBeCloseTo(total, 2);
      const first = page.locator('tbody tr').first();
      expect(await first.getAttribute('data-rig')).toBe(fleet.stopped.rigId);
      expect(await first.innerText()).toMatch(
        /earning nothing since .* not connected in 80% of the hour/,
      );
      expect(await page.locator(`tr[data-rig="${fleet.failing.rigId}"]`).innerText()).toMatch(
        /not eligible[\s\S]*failing: gpus \(gpu-lost\)/,
      );
      const bars = page.locator('svg.chart rect.bar');
      expect(await bars.count()).toBe(30);
      const values = await bars.evaluateAll((els) =>
        els.map((e) => Number(e.getAttribute('data-value'))),
      );
      expect(values.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      await page.screenshot({ path: join(SHOTS, 'master.png'), fullPage: true });
    },
  );

  it('rig: hour by hour, claimed and credited, with the reason for each hour not credited', async () => {
    const rig = fleet.stopped;
    const res = await page.goto(`${svc.url}/rigs/${rig.rigId}`);
    expect(res!.status()).toBe(200);
    const l = await ledger(rig, hoursAgo(24 * 7), hoursAgo(0));
    expect(Number(await text('[data-field=credited-hours]'))).toBe(l.totals.creditedHours);
    expect(dollars(await text('[data-field=usd-total]'))).toBeCloseTo(l.totals.usd, 2);
    for (const h of l.hours) {
      const row = page.locator(`tr[data-hour="${h.hour}"]`);
      expect(dollars(await row.locator('[data-field=usd]').innerText())).toBeCloseTo(h.usd, 4);
      if (h.usd === 0) expect(await row.innerText()).toContain('not connected in 80% of the hour');
    }
    expect(await page.locator('svg.chart rect.bar').count()).toBe(168);
    await page.screenshot({ path: join(SHOTS, 'rig.png'), fullPage: true });
  });

  it('an unknown master is a clear page with status 404, not a stack trace; a malformed one is 400', async () => {
    const res = await page.goto(`${svc.url}/masters/0x0000000000000000000000000000000000000001`);
    expect(res!.status()).toBe(404);
    expect(await text('h1')).toBe('Unknown master');
    expect(await page.locator('body').innerText()).not.toMatch(/at \S+ \(|Error:|internal/);
    await page.screenshot({ path: join(SHOTS, 'unknown-master.png') });
    expect((await page.goto(`${svc.url}/masters/not-an-address`))!.status()).toBe(400);
    expect((await page.goto(`${svc.url}/rigs/AAAAAAAAAAAAAAAAAAAAAA`))!.status()).toBe(404);
  });

  it('the pages run no script: the numbers are there with JavaScript off', async () => {
    const ctx = await chromium.launchPersistentContext(tempDir('chromium-nojs-'), {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      javaScriptEnabled: false,
    });
    try {
      const p = await ctx.newPage();
      await p.goto(`${svc.url}/masters/${MASTER_A.toLowerCase()}`);
      expect(await p.locator('[data-field=usd-month-total]').innerText()).toMatch(/^\$\d+\.\d\d$/);
      expect(await p.locator('svg.chart rect.bar').count()).toBe(30);
      expect(await p.locator('script').count()).toBe(0);
    } finally {
      await ctx.close();
    }
  });
});
