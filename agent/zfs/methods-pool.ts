/** Pool methods: list, get, create, destroy, import, export, detach, offline, clear, alerts. */
import { Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { defineMethod } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { changeMethod } from './change-method.js';
import * as cmd from './commands.js';
import type { ZfsContext } from './context.js';
import { checkDevices } from './disk-check.js';
import { AbsolutePath, PoolName } from './names.js';
import { Confirm, MIN_DISKS, Ok, TopologySchema, VdevRef } from './params.js';
import { parseZpoolGet } from './parse-zpool-list.js';
import { parseZpoolStatus } from './parse-zpool-status.js';
import { devicePaths, toPool } from './pool-view.js';
import { checkDialect, DatasetCreateProperties, PoolProperties } from './properties.js';
import { AlertSchema, type Pool, PoolSchema } from './schemas.js';

const PoolWithProps = Type.Intersect([
  PoolSchema,
  Type.Object({
    properties: Type.Optional(
      Type.Record(Type.String(), Type.Object({ value: Type.String(), source: Type.String() }), {
        description: 'all pool properties (zpool get all)',
      }),
    ),
  }),
]);

export async function listPools(z: ZfsContext, name?: string): Promise<Pool[]> {
  const d = await z.ready();
  const [rows, statuses] = await Promise.all([z.driver.listPools(), z.driver.status(name)]);
  return statuses.map((s) =>
    toPool(
      rows.find((r) => r.name === s.name),
      s,
      d.parsable,
    ),
  );
}

export async function getPool(z: ZfsContext, name: string): Promise<Pool> {
  const [pool] = await listPools(z, name);
  if (!pool) throw notFound(`pool ${name} does not exist`, { pool: name });
  return pool;
}

/** After a change: let the health monitor see the new state, and answer with the pool as it now is. */
async function poolNow(z: ZfsContext, name: string): Promise<Pool> {
  await z.monitor.kick();
  return getPool(z, name);
}

export function poolMethods(z: ZfsContext) {
  return [
    ...resourceMethods({
      prefix: 'pool',
      listSummary: 'List pools with health, capacity, scan status and the vdev tree',
      label: 'pool',
      item: PoolSchema,
      list: () => listPools(z),
      mutations: {
        create: mutation({
          summary: 'Create a pool from a topology of disks (from disk.list) or file vdevs',
          description:
            'Refuses devices used by an imported pool or mounted; partitioned or held disks need `force`. ' +
            '`altroot` (zpool -R) also implies cachefile=none, which tests and trials use.',
          params: Type.Object(
            {
              name: PoolName,
              topology: TopologySchema,
              properties: Type.Optional(PoolProperties),
              filesystemProperties: Type.Optional(DatasetCreateProperties),
              mountpoint: Type.Optional(
                Type.Union([AbsolutePath, Type.Literal('none')], {
                  description: 'mountpoint of the root dataset',
                }),
              ),
              altroot: Type.Optional(AbsolutePath),
              force: Type.Optional(
                Type.Boolean({ description: 'use partitioned or held disks (zpool create -f)' }),
              ),
            },
            { additionalProperties: false },
          ),
          result: PoolSchema,
          handler: async (p, ctx) => {
            // A dry run plans from its params: live reads the caller's situation cannot make (ZFS
            // not usable by this agent) are skipped and named in the plan's notes; a real run
            // makes every one of them first.
            const skipped: string[] = [];
            const live = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
              try {
                return await read();
              } catch (e) {
                if (!ctx.dryRun) throw e;
                skipped.push(`${what} (${(e as Error).message})`);
                return undefined;
              }
            };
            const d = await live('the check of the properties against this ZFS', () => z.ready());
            if (d) checkDialect(d, { ...p.properties, ...p.filesystemProperties });
            for (const g of [...p.topology.data, ...(p.topology.log ?? []), ...(p.topology.special ?? [])]) {
              if (g.disks.length < MIN_DISKS[g.type]!) {
                throw invalid(`a ${g.type} needs at least ${MIN_DISKS[g.type]} devices`, { group: g });
              }
            }
            const disks = cmd.topologyDisks(p.topology);
            const twice = disks.find((dev, i) => disks.indexOf(dev) !== i);
            if (twice) throw invalid(`${twice} is listed twice`, { device: twice });
            const pools = d
              ? await live('the checks against existing pools and their devices', () => z.driver.status())
              : undefined;
            if (!d) skipped.push('the checks against existing pools and their devices');
            if (pools?.some((s) => s.name === p.name))
              throw conflict(`pool ${p.name} already exists`, { pool: p.name });
            const inUse = new Set<string>();
            for (const s of pools ?? []) for (const dev of devicePaths(s)) inUse.add(dev);
            checkDevices(disks, { sysroot: z.deps.sysroot, force: p.force, inUse });
            const plan = [cmd.zpoolCreate(p)];
            const notes = skipped.length
              ? [`live checks skipped in this dry run, made by the real run: ${skipped.join('; ')}`]
              : undefined;
            const dry = await z.apply(plan, ctx.dryRun, { notes });
            return dry ?? poolNow(z, p.name);
          },
        }),

        destroy: mutation({
          summary: 'Destroy a pool and all its data; `confirm` must repeat the pool name',
          params: Type.Object(
            {
              name: PoolName,
              confirm: Confirm,
              force: Type.Optional(Type.Boolean({ description: 'unmount busy datasets' })),
            },
            { additionalProperties: false },
          ),
          result: Ok,
          handler: async (p, ctx) => {
            if (p.confirm !== p.name)
              throw invalid(`refused: confirm must repeat the pool name ${p.name}`, { pool: p.name });
            await z.ready();
            await z.driver.poolStatus(p.name);
            const dry = await z.apply([cmd.zpoolDestroy(p.name, p.force)], ctx.dryRun);
            if (dry) return dry;
            z.monitor.forget(p.name);
            return {};
          },
        }),
      },
    }),
    defineMethod({
      name: 'pool.get',
      summary: 'One pool with its vdev tree, per-device errors, scan status and all properties',
      params: Type.Object({ name: PoolName }, { additionalProperties: false }),
      result: PoolWithProps,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const d = await z.ready();
        const pool = await getPool(z, p.name);
        const r = await z.driver.run(cmd.zpoolGet(d, p.name));
        const props = parseZpoolGet(r.stdout).get(p.name);
        return { ...pool, properties: props ? Object.fromEntries(props) : {} };
      },
    }),

    defineMethod({
      name: 'pool.importable',
      summary: 'Pools that could be imported (zpool import), optionally searching directories of file vdevs',
      params: Type.Object(
        {
          dirs: Type.Optional(
            Type.Array(AbsolutePath, { maxItems: 16, description: 'directories to search (-d)' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Array(
        Type.Object({
          name: Type.String(),
          id: Type.Optional(Type.String()),
          state: Type.String(),
          status: Type.Optional(Type.String()),
          action: Type.Optional(Type.String()),
          vdevs: Type.Array(Type.Unknown()),
        }),
      ),
      role: 'operator',
      mutating: false,
      handler: async (p) => {
        await z.ready();
        // exit 1 with "no pools available to import" is an empty answer, not a failure
        const r = await z.driver.run(cmd.zpoolImport({ dirs: p.dirs }), { okCodes: [0, 1] });
        return parseZpoolStatus(r.stdout).map((s) => {
          const vdevs = Object.entries(s.vdevs).flatMap(([cls, list]) =>
            list.map((v) => ({ ...v, class: cls })),
          );
          return { name: s.name, id: s.id, state: s.state, status: s.status, action: s.action, vdevs };
        });
      },
    }),

    changeMethod(z, {
      name: 'pool.import',
      summary: 'Import a pool by name or numeric id',
      params: Type.Object(
        {
          pool: Type.Union([
            PoolName,
            Type.String({ pattern: '^[0-9]{1,20}$', description: 'numeric pool id' }),
          ]),
          newName: Type.Optional(PoolName),
          dirs: Type.Optional(
            Type.Array(AbsolutePath, { maxItems: 16, description: 'directories to search (-d)' }),
          ),
          altroot: Type.Optional(AbsolutePath),
          force: Type.Optional(
            Type.Boolean({ description: 'import a pool that seems in use by another system' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: PoolSchema,
      role: 'admin',
      plan: (p) => [cmd.zpoolImport(p)],
      answer: async (p) =>
        poolNow(z, p.newName ?? (/^\d+$/.test(p.pool) ? await nameOfId(z, p.pool) : p.pool)),
    }),

    changeMethod(z, {
      name: 'pool.export',
      summary: 'Export a pool (unmount and release it)',
      params: Type.Object(
        { name: PoolName, force: Type.Optional(Type.Boolean({ description: 'unmount busy datasets' })) },
        { additionalProperties: false },
      ),
      result: Ok,
      role: 'admin',
      check: (p) => z.driver.poolStatus(p.name),
      plan: (p) => [cmd.zpoolExport(p.name, p.force)],
      answer: async (p) => {
        z.monitor.forget(p.name);
        return {};
      },
    }),

    changeMethod(z, {
      name: 'pool.detach',
      summary: 'Detach a device from a mirror (or cancel a replacement)',
      params: Type.Object({ name: PoolName, device: VdevRef }, { additionalProperties: false }),
      result: PoolSchema,
      role: 'admin',
      plan: (p) => [cmd.zpoolDetach(p.name, p.device)],
      answer: (p) => poolNow(z, p.name),
    }),

    changeMethod(z, {
      name: 'pool.offline',
      summary: 'Take a device offline',
      params: Type.Object(
        {
          name: PoolName,
          device: VdevRef,
          temporary: Type.Optional(Type.Boolean({ description: 'until the next reboot (-t)' })),
        },
        { additionalProperties: false },
      ),
      result: PoolSchema,
      role: 'admin',
      plan: (p) => [cmd.zpoolOffline(p.name, p.device, p.temporary)],
      answer: (p) => poolNow(z, p.name),
    }),

    changeMethod(z, {
      name: 'pool.clear',
      summary: 'Clear the error counters of a pool or one device',
      params: Type.Object(
        { name: PoolName, device: Type.Optional(VdevRef) },
        { additionalProperties: false },
      ),
      result: PoolSchema,
      role: 'operator',
      plan: (p) => [cmd.zpoolClear(p.name, p.device)],
      answer: (p) => poolNow(z, p.name),
    }),

    defineMethod({
      name: 'pool.alert.list',
      summary: 'Persisted pool health alerts, newest first',
      params: Type.Object(
        {
          pool: Type.Optional(PoolName),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 100' })),
        },
        { additionalProperties: false },
      ),
      result: listResult(AlertSchema),
      role: 'auditor',
      mutating: false,
      handler: async (p) => listed(await z.monitor.list(p)),
    }),
  ];
}

async function nameOfId(z: ZfsContext, id: string): Promise<string> {
  const pools = await listPools(z);
  const hit = pools.find((pl) => pl.guid === id);
  if (!hit) throw notFound(`no imported pool has id ${id}`, { id });
  return hit.name;
}
