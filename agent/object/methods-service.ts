/** The gateway itself: status (never `unavailable`: it says why), start and stop of the local one. */
import { Type } from '@sinclair/typebox';
import { RpcError } from '../../rpc/errors.js';
import { defineMethod, isDryRunPlan } from '../../rpc/registry.js';
import { sleep } from '../util/time.js';
import type { ObjectContext } from './context.js';

const StatusSchema = Type.Object({
  backend: Type.String({ description: 'rgw, external-rgw or minio' }),
  endpoint: Type.String({ description: 'S3 endpoint' }),
  available: Type.Boolean(),
  reason: Type.Optional(Type.String({ description: 'why not available' })),
  gateway: Type.Object({
    managed: Type.Boolean({ description: 'the agent starts and stops it' }),
    running: Type.Boolean(),
    pid: Type.Optional(Type.Integer()),
  }),
  version: Type.Optional(Type.String()),
});

async function status(o: ObjectContext) {
  const b = o.backend;
  const [h, g] = await Promise.all([b.health(), b.gateway()]);
  const cap = o.deps.capabilities.get(b.kind === 'minio' ? 'mc' : 'radosgw');
  return {
    backend: b.kind,
    endpoint: b.endpoint,
    available: h.up,
    ...(h.reason ? { reason: h.reason } : {}),
    gateway: g,
    ...(cap?.version ? { version: cap.version } : {}),
  };
}

/** Whether the admin wants the local gateway running: kept in LMDB, so a reboot restores it. */
const WANTED = 'object\u0000gateway';
export const gatewayWanted = (o: ObjectContext) => o.deps.store.db('settings').get(WANTED) === 'running';
const setWanted = (o: ObjectContext, v: 'running' | 'stopped') => o.deps.store.db('settings').put(WANTED, v);

/**
 * At agent start: if the admin last started the local gateway and it is not running (the
 * machine rebooted, radosgw died), start it again — in the background, with the reason logged
 * when it cannot start.
 */
export async function restoreGateway(o: ObjectContext): Promise<void> {
  if (o.backend.kind !== 'rgw' || !gatewayWanted(o)) return;
  if ((await o.backend.gateway()).running) return;
  try {
    await o.apply(await o.backend.startGateway(), false);
    await waitAnswer(o, true, 60_000);
    o.deps.log.info({ area: 'object' }, 'object: local gateway started again (it was running before)');
  } catch (err) {
    o.deps.log.error({ err, area: 'object' }, 'object: the local gateway could not be started again');
  }
}

async function waitAnswer(o: ObjectContext, up: boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await o.backend.health()).up !== up) {
    if (Date.now() > deadline)
      throw new RpcError('timeout', `the gateway did not ${up ? 'start answering' : 'stop'} within ${ms} ms`);
    await sleep(200);
  }
}

export function serviceMethods(o: ObjectContext) {
  return [
    defineMethod({
      name: 'object.status',
      summary: 'Object storage backend, endpoint, whether it answers (and why not), gateway process',
      params: Type.Object({}, { additionalProperties: false }),
      result: StatusSchema,
      role: 'auditor',
      mutating: false,
      handler: () => status(o),
    }),

    defineMethod({
      name: 'object.service.start',
      summary: 'Start the local gateway and wait until S3 answers',
      params: Type.Object({}, { additionalProperties: false }),
      result: StatusSchema,
      role: 'admin',
      mutating: true,
      handler: async (_p, ctx) => {
        const plan = await o.backend.startGateway();
        const r = await o.apply(plan, ctx.dryRun, ctx.signal);
        if (isDryRunPlan(r)) return r;
        await setWanted(o, 'running');
        await waitAnswer(o, true, 60_000);
        return status(o);
      },
    }),

    defineMethod({
      name: 'object.service.stop',
      summary: 'Stop the local gateway (S3 clients are refused until it starts again)',
      params: Type.Object({}, { additionalProperties: false }),
      result: StatusSchema,
      role: 'admin',
      mutating: true,
      handler: async (_p, ctx) => {
        const r = await o.apply(await o.backend.stopGateway(), ctx.dryRun, ctx.signal);
        if (isDryRunPlan(r)) return r;
        await setWanted(o, 'stopped');
        const deadline = Date.now() + 30_000;
        while ((await o.backend.gateway()).running) {
          if (Date.now() > deadline) throw new RpcError('timeout', 'radosgw did not exit within 30 s');
          await sleep(200);
        }
        return status(o);
      },
    }),
  ];
}
