/** replication.run (job) and storage.layout.apply. */
import { existsSync, readdirSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { conflict, invalid } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import type { ZfsContext } from './context.js';
import { type AreaState, desiredLayout, planLayout } from './layout-plan.js';
import { DatasetName, PoolName, SnapshotShortName } from './names.js';
import { localTransport, planReplication, runPipe } from './replication.js';

const fmt = (n: number) => {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
};

export function replicationMethods(z: ZfsContext) {
  return [
    defineMethod({
      name: 'replication.run',
      summary: 'Replicate a dataset to another pool: full or incremental zfs send | zfs receive (job)',
      description:
        'mode auto: incremental from the newest common snapshot when the target has one, else full. ' +
        'Progress is bytes sent against the estimate of a dry-run send. Where the tools support it ' +
        '(OpenZFS) the receive is resumable and an interrupted one is resumed by the next run.',
      params: Type.Object(
        {
          source: DatasetName,
          snapshot: Type.Optional(SnapshotShortName),
          target: DatasetName,
          mode: Type.Optional(
            Type.Union([Type.Literal('auto'), Type.Literal('full'), Type.Literal('incremental')], {
              description: 'default auto',
            }),
          ),
          from: Type.Optional(SnapshotShortName),
          force: Type.Optional(
            Type.Boolean({ description: 'zfs receive -F: roll the target back / replace it' }),
          ),
          resumable: Type.Optional(
            Type.Boolean({ description: 'resumable receive where supported; default true' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        mode: Type.String({ description: 'full, incremental or resume' }),
        snapshot: Type.String(),
        from: Type.Optional(Type.String()),
        target: Type.String(),
        bytes: Type.Integer({ description: 'bytes of the stream' }),
        estimate: Type.Integer({ description: 'estimated bytes' }),
        estimateSource: Type.String({ description: 'send-dry-run or properties' }),
        transport: Type.String(),
      }),
      role: 'admin',
      mutating: true,
      job: {
        lock: (p) => `zfs-replication:${p.target}`,
        title: (p) => `replicate ${p.source} to ${p.target}`,
      },
      handler: async (p, ctx) => {
        const d = await z.ready();
        if (p.source === p.target) throw invalid('source and target are the same dataset');
        if (p.target.startsWith(`${p.source}/`)) throw invalid('the target is inside the source');
        const plan = await planReplication(z.driver, d, p, localTransport);
        const notes = [
          `${plan.mode} ${plan.snapshot}${plan.from ? ` from ${plan.from}` : ''}, about ${fmt(plan.estimate.bytes)} (${plan.estimate.source})`,
          'the two commands run as send | receive',
        ];
        if (ctx.dryRun) return { dryRun: true, commands: [plan.send, plan.receive], notes };
        ctx.progress(0, `${plan.mode} send of ${plan.snapshot}`);
        let last = 0;
        const bytes = await runPipe(plan.send, plan.receive, {
          runner: z.driver.runner,
          env: d.env,
          signal: ctx.signal,
          onBytes: (b) => {
            const t = Date.now();
            if (t - last < 200) return;
            last = t;
            const pct = plan.estimate.bytes > 0 ? Math.min(99, (b / plan.estimate.bytes) * 100) : 0;
            ctx.progress(pct, `${fmt(b)} of about ${fmt(plan.estimate.bytes)}`);
          },
        }).finally(() => z.cache.invalidate());
        ctx.progress(100, `${fmt(bytes)} sent`);
        return {
          mode: plan.mode,
          snapshot: plan.snapshot,
          ...(plan.from ? { from: plan.from } : {}),
          target: p.target,
          bytes,
          estimate: plan.estimate.bytes,
          estimateSource: plan.estimate.source,
          transport: localTransport.name,
        };
      },
    }),

    defineMethod({
      name: 'storage.layout.apply',
      summary: 'Create the appliance datasets (/srv/calypso/{db,backups,…}) on a pool; idempotent',
      description:
        "Creates <pool>/calypso mounted at the layout's srv directory with one child per data area, or sets " +
        'the properties that differ. Refuses to mount over a non-empty directory unless `force`.',
      params: Type.Object(
        {
          pool: PoolName,
          force: Type.Optional(Type.Boolean({ description: 'mount over non-empty plain directories' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        pool: Type.String(),
        datasets: Type.Array(
          Type.Object({ dataset: Type.String(), mountpoint: Type.String(), action: Type.String() }),
        ),
      }),
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const d = await z.ready();
        const pool = await z.driver.poolStatus(p.pool);
        const want = desiredLayout(pool.name, z.deps.layout, d);
        const rows = await z.driver.listDatasets(`${p.pool}/calypso`).catch(() => []);
        const have = new Map<string, AreaState>();
        if (rows.length) {
          const props = ['mountpoint', 'recordsize', 'compression', 'atime', 'logbias', 'copies'];
          // by name rather than -r, which would walk every snapshot too
          const got = await z.driver.getProps(
            rows.map((r) => r.name),
            props,
          );
          for (const row of rows) {
            const values = new Map(
              [...(got.get(row.name) ?? new Map()).entries()].map(([k, v]) => [k, v.value]),
            );
            have.set(row.name, { exists: true, values });
          }
        }
        const altroot = (await z.driver.listPools()).find((r) => r.name === p.pool)?.altroot;
        const steps = planLayout(want, have, altroot);
        if (!p.force) {
          for (const s of steps) {
            if (s.action !== 'create') continue;
            const mp = want.find((w) => w.dataset === s.dataset)!.mountpoint;
            if (existsSync(mp) && !altroot && readdirSync(mp).length > 0) {
              throw conflict(`${mp} is a non-empty directory; its content would be hidden (pass force)`, {
                path: mp,
              });
            }
          }
        }
        const plan = steps.flatMap((s) => s.commands);
        const dry = await z.apply(plan, ctx.dryRun);
        if (dry) return dry;
        return {
          pool: p.pool,
          datasets: steps.map((s) => ({
            dataset: s.dataset,
            mountpoint: want.find((w) => w.dataset === s.dataset)!.mountpoint,
            action: s.action === 'create' ? 'created' : s.action === 'update' ? 'updated' : 'unchanged',
          })),
        };
      },
    }),
  ];
}
