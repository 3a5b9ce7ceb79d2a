/**
 * The read-only public dashboard on the service: `/` (fleet), `/masters/0x…` and `/rigs/<id>`.
 * HTML rendered on the server, charts as inline SVG; no script is served or allowed.
 * What each page shows, and why it is public anyway: docs/threat-model.md ("Dashboard: what is public").
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RewardsStore } from '../store.js';
import { notFoundPage, PAGE_CSP } from './html.js';
import { masterModel, renderMaster } from './master.js';
import { rigModel, renderRig } from './rig.js';
import { fleetModel, renderFleet } from './fleet-page.js';

export interface DashboardDeps {
  store: RewardsStore;
  demand: Record<string, number>;
  now: () => Date;
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-security-policy', PAGE_CSP)
    .header('cache-control', 'no-cache')
    .type('text/html; charset=utf-8')
    .send(body);
}

/** Add the dashboard's routes to `app`. */
export function registerDashboard(app: FastifyInstance, d: DashboardDeps): void {
  app.get('/', async (_req, reply) =>
    html(reply, 200, renderFleet(fleetModel(d.store, d.demand, d.now()))),
  );

  app.get('/masters/:address', async (req, reply) => {
    const { address } = req.params as { address: string };
    if (!/^0x[0-9a-fA-F]{40}$/.test(address))
      return html(
        reply,
        400,
        notFoundPage(
          'Not a master address',
          `"${address}" is not an address: a master address is 0x and 40 hexadecimal digits.`,
        ),
      );
    const m = masterModel(d.store, address, d.now());
    if (!m)
      return html(
        reply,
        404,
        notFoundPage(
          'Unknown master',
          `No rig is enrolled for master ${address}. ` +
            'Rigs appear here once their agent has enrolled (sonm-rewards enroll).',
        ),
      );
    return html(reply, 200, renderMaster(m));
  });

  app.get('/rigs/:rigId', async (req, reply) => {
    const { rigId } = req.params as { rigId: string };
    const m = /^[A-Za-z0-9_-]{22}$/.test(rigId) ? rigModel(d.store, rigId, d.now()) : null;
    if (!m)
      return html(
        reply,
        404,
        notFoundPage('Unknown rig', `No rig with id ${rigId} is enrolled here.`),
      );
    return html(reply, 200, renderRig(m));
  });
}
