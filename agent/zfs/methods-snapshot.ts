/** Snapshot methods: list (cached, paged), create, destroy (single, range, recursive), rollback, clone, holds. */
import { Type } from '@sinclair/typebox';
import { invalid, notFound } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { changeMethod } from './change-method.js';
import * as cmd from './commands.js';
import type { ZfsContext } from './context.js';
import { getDataset } from './methods-dataset.js';
import {
  DatasetName,
  HoldTag,
  SnapshotName,
  SnapshotShortName,
  splitSnapshot,
  UserProperties,
} from './names.js';
import { Ok } from './params.js';
import { checkDialect, DatasetCreateProperties } from './properties.js';
import { DatasetSchema, SnapshotSchema } from './schemas.js';
import type { SnapshotRow } from './types.js';
import { parseSize, parseZfsDate } from './units.js';

const SortField = Type.Union(
  ['name', 'created', 'used', 'referenced'].map((s) => Type.Literal(s)),
  { description: 'name (dataset, then creation order), created, used or referenced; default name' },
);

/** One snapshot, exact (zfs get -p exists in both dialects). */

/** snapshot.hold and snapshot.release take the same parameters. */
const HoldParams = Type.Object(
  {
    snapshot: SnapshotName,
    tag: HoldTag,
    recursive: Type.Optional(Type.Boolean({ description: '-r' })),
  },
  { additionalProperties: false },
);
export async function getSnapshot(z: ZfsContext, full: string): Promise<SnapshotRow> {
  const props = (await z.driver.getProps([full], ['used', 'referenced', 'creation', 'userrefs'])).get(full);
  if (!props) throw notFound(`snapshot ${full} does not exist`, { snapshot: full });
  const { dataset, snapshot } = splitSnapshot(full);
  const row: SnapshotRow = {
    name: full,
    dataset,
    snapshot,
    holds: Number(props.get('userrefs')?.value) || 0,
  };
  const used = parseSize(props.get('used')?.value);
  if (used !== undefined) row.used = used;
  const referenced = parseSize(props.get('referenced')?.value);
  if (referenced !== undefined) row.referenced = referenced;
  const created = parseZfsDate(props.get('creation')?.value);
  if (created !== undefined) row.created = created;
  return row;
}

/** The dataset's own snapshots in creation order (the tool's order). */
async function ownSnapshots(z: ZfsContext, dataset: string): Promise<SnapshotRow[]> {
  return z.driver.listSnapshots(dataset);
}

export function snapshotMethods(z: ZfsContext) {
  return [
    defineMethod({
      name: 'snapshot.list',
      summary: 'Snapshots, paged, sorted and filtered (served from a cache invalidated by every change)',
      params: Type.Object(
        {
          dataset: Type.Optional(DatasetName),
          recursive: Type.Optional(
            Type.Boolean({ description: 'include snapshots of descendants of `dataset`' }),
          ),
          search: Type.Optional(Type.String({ maxLength: 255, description: 'substring of the full name' })),
          createdAfter: Type.Optional(Type.Number({ description: 'ms since the epoch, inclusive' })),
          createdBefore: Type.Optional(Type.Number({ description: 'ms since the epoch, exclusive' })),
          sort: Type.Optional(SortField),
          order: Type.Optional(
            Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'default asc' }),
          ),
          offset: Type.Optional(Type.Integer({ minimum: 0, description: 'default 0' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'default 100' })),
          refresh: Type.Optional(Type.Boolean({ description: 'list again instead of using the cache' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        items: Type.Array(SnapshotSchema),
        total: Type.Integer({ description: 'matching snapshots before paging' }),
        listedAt: Type.Number({ description: 'when the listing was taken (ms since the epoch)' }),
        cached: Type.Boolean({ description: 'served from the cache' }),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        await z.ready();
        const { refresh, ...q } = p;
        return z.cache.query(q as Parameters<typeof z.cache.query>[0], refresh);
      },
    }),

    defineMethod({
      name: 'snapshot.create',
      summary: 'Create a snapshot (recursive: of the dataset and all descendants, atomically)',
      params: Type.Object(
        {
          dataset: DatasetName,
          name: SnapshotShortName,
          recursive: Type.Optional(Type.Boolean({ description: 'zfs snapshot -r' })),
          userProperties: Type.Optional(UserProperties),
        },
        { additionalProperties: false },
      ),
      result: SnapshotSchema,
      role: 'operator',
      mutating: true,
      handler: async (p, ctx) => {
        await z.ready();
        const full = `${p.dataset}@${p.name}`;
        if (full.length > 255) throw invalid(`${full} is longer than 255 characters`);
        const dry = await z.apply([cmd.zfsSnapshot(full, p.recursive, p.userProperties)], ctx.dryRun);
        return dry ?? getSnapshot(z, full);
      },
    }),

    defineMethod({
      name: 'snapshot.destroy',
      summary:
        "Destroy one snapshot, a range of a dataset's snapshots (from…to, inclusive), recursively or not",
      params: Type.Object(
        {
          snapshot: Type.Optional(SnapshotName),
          dataset: Type.Optional(DatasetName),
          from: Type.Optional(SnapshotShortName),
          to: Type.Optional(SnapshotShortName),
          recursive: Type.Optional(
            Type.Boolean({ description: 'the same-named snapshots of descendants too (-r)' }),
          ),
        },
        { additionalProperties: false, description: 'either `snapshot`, or `dataset` with `from` and `to`' },
      ),
      result: Type.Object({
        destroyed: Type.Array(Type.String(), { description: 'full names, oldest first' }),
      }),
      role: 'admin',
      mutating: true,
      handler: async (p, ctx) => {
        const d = await z.ready();
        let plan: string[][];
        let destroyed: string[];
        if (p.snapshot && !p.dataset && !p.from && !p.to) {
          await getSnapshot(z, p.snapshot);
          plan = [cmd.zfsDestroySnapshot(p.snapshot, p.recursive)];
          destroyed = [p.snapshot];
        } else if (!p.snapshot && p.dataset && p.from && p.to) {
          const own = await ownSnapshots(z, p.dataset);
          const a = own.findIndex((s) => s.snapshot === p.from);
          const b = own.findIndex((s) => s.snapshot === p.to);
          if (a < 0) throw notFound(`snapshot ${p.dataset}@${p.from} does not exist`);
          if (b < 0) throw notFound(`snapshot ${p.dataset}@${p.to} does not exist`);
          if (a > b) throw invalid(`${p.from} is newer than ${p.to}: a range goes from older to newer`);
          destroyed = own.slice(a, b + 1).map((s) => s.name);
          // OpenZFS takes the range itself (one atomic command); zfs-fuse needs one destroy per snapshot
          plan = d.destroyRange
            ? [cmd.zfsDestroySnapshot(`${p.dataset}@${p.from}%${p.to}`, p.recursive)]
            : destroyed.map((s) => cmd.zfsDestroySnapshot(s, p.recursive));
        } else {
          throw invalid('give either `snapshot`, or `dataset` with `from` and `to`');
        }
        const dry = await z.apply(plan, ctx.dryRun);
        return dry ?? { destroyed };
      },
    }),

    changeMethod(z, {
      name: 'snapshot.rollback',
      summary: 'Roll a dataset back to a snapshot; newer snapshots block it unless `destroyNewer`',
      params: Type.Object(
        {
          snapshot: SnapshotName,
          destroyNewer: Type.Optional(
            Type.Boolean({ description: 'destroy newer snapshots (zfs rollback -r)' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Ok,
      role: 'admin',
      check: (p) => getSnapshot(z, p.snapshot),
      plan: (p) => [cmd.zfsRollback(p.snapshot, p.destroyNewer)],
      answer: async () => ({}),
    }),

    changeMethod(z, {
      name: 'snapshot.clone',
      summary: 'Create a writable clone of a snapshot',
      params: Type.Object(
        {
          snapshot: SnapshotName,
          target: DatasetName,
          properties: Type.Optional(DatasetCreateProperties),
          parents: Type.Optional(Type.Boolean({ description: 'create missing parents (-p)' })),
        },
        { additionalProperties: false },
      ),
      result: DatasetSchema,
      role: 'admin',
      check: (p, d) => {
        checkDialect(d, p.properties);
        if (!p.target.includes('/')) throw invalid('a clone needs a pool and a component: pool/name');
      },
      plan: (p) => [cmd.zfsClone(p.snapshot, p.target, p.properties, p.parents)],
      answer: (p) => getDataset(z, p.target),
    }),

    changeMethod(z, {
      name: 'snapshot.hold',
      summary: 'Put a named hold on a snapshot (a held snapshot cannot be destroyed)',
      params: HoldParams,
      result: SnapshotSchema,
      role: 'operator',
      plan: (p) => [cmd.zfsHold(p.tag, p.snapshot, p.recursive)],
      answer: (p) => getSnapshot(z, p.snapshot),
    }),

    changeMethod(z, {
      name: 'snapshot.release',
      summary: 'Release a named hold',
      params: HoldParams,
      result: SnapshotSchema,
      role: 'operator',
      plan: (p) => [cmd.zfsRelease(p.tag, p.snapshot, p.recursive)],
      answer: (p) => getSnapshot(z, p.snapshot),
    }),

    defineMethod({
      name: 'snapshot.holds',
      summary: 'Holds on a snapshot: the count always, the tags where the tool can list them (OpenZFS)',
      params: Type.Object({ snapshot: SnapshotName }, { additionalProperties: false }),
      result: Type.Object({
        count: Type.Integer(),
        tags: Type.Optional(
          Type.Array(Type.Object({ tag: Type.String(), since: Type.Optional(Type.Number()) })),
        ),
      }),
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        const d = await z.ready();
        const snap = await getSnapshot(z, p.snapshot);
        if (!d.holdsList) return { count: snap.holds };
        const r = await z.driver.run(cmd.zfsHolds(p.snapshot));
        const tags = r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [, tag, since] = l.split('\t');
            const t = parseZfsDate(since);
            return t === undefined ? { tag: tag ?? '' } : { tag: tag ?? '', since: t };
          });
        return { count: snap.holds, tags };
      },
    }),
  ];
}
