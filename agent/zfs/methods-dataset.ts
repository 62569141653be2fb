/** Dataset and zvol methods: list (tree), get, create, update, destroy, zvol create and resize. */
import { type Static, Type } from '@sinclair/typebox';
import { conflict, invalid, notFound, unavailable } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { changeMethod } from './change-method.js';
import * as cmd from './commands.js';
import { tolerateNotMounted, type ZfsContext } from './context.js';
import type { Dialect } from './dialect.js';
import { DatasetName, USER_PROPERTY_PATTERN, UserProperties } from './names.js';
import { Confirm, Ok } from './params.js';
import { checkDialect, DatasetCreateProperties, DatasetProperties, SETTABLE, Size } from './properties.js';
import { DatasetSchema } from './schemas.js';
import type { DatasetRow } from './types.js';
import { parseSize } from './units.js';

type DatasetT = Static<typeof DatasetSchema>;
type Node = DatasetT & { children: Node[] };

const DatasetNode = Type.Recursive(
  (This) => Type.Object({ ...DatasetSchema.properties, children: Type.Array(This) }),
  { $id: 'ZfsDatasetNode', description: 'a dataset and its children' },
);

const InheritName = Type.Union([
  Type.Union(
    Object.keys(SETTABLE).map((k) => Type.Literal(k)),
    { description: 'a native settable property' },
  ),
  Type.String({ pattern: USER_PROPERTY_PATTERN, maxLength: 256, description: 'a user property' }),
]);

/** Datasets → forest, by name (a child's parent is its name up to the last slash). */
export function toTree(rows: DatasetRow[]): Node[] {
  const nodes = new Map<string, Node>();
  const roots: Node[] = [];
  for (const r of rows) nodes.set(r.name, { ...r, children: [] });
  for (const n of nodes.values()) {
    const cut = n.name.lastIndexOf('/');
    const parent = cut < 0 ? undefined : nodes.get(n.name.slice(0, cut));
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  return roots;
}

export async function getDataset(z: ZfsContext, name: string): Promise<DatasetT> {
  const [row] = await z.driver.listDatasets(name, 0);
  if (!row) throw notFound(`dataset ${name} does not exist`, { dataset: name });
  return row;
}

function requireZvols(d: Dialect) {
  if (!d.zvols) throw unavailable(`${d.name} does not implement volumes (zvols)`, { dialect: d.name });
}

export function datasetMethods(z: ZfsContext) {
  return [
    ...resourceMethods({
      prefix: 'dataset',
      listSummary: 'Filesystems and volumes as a tree',
      label: 'dataset',
      item: DatasetNode,
      listParams: Type.Object(
        {
          root: Type.Optional(DatasetName),
          depth: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 64, description: 'levels below root; default all' }),
          ),
        },
        { additionalProperties: false },
      ),
      list: async (p) => {
        await z.ready();
        return toTree(await z.driver.listDatasets(p.root, p.root ? p.depth : undefined));
      },
      mutations: {
        create: mutation({
          summary: 'Create a filesystem',
          params: Type.Object(
            {
              name: DatasetName,
              properties: Type.Optional(DatasetCreateProperties),
              userProperties: Type.Optional(UserProperties),
              parents: Type.Optional(Type.Boolean({ description: 'create missing parents (zfs create -p)' })),
            },
            { additionalProperties: false },
          ),
          result: DatasetSchema,
          handler: async (p, ctx) => {
            const d = await z.ready();
            checkDialect(d, p.properties);
            if (!p.name.includes('/'))
              throw invalid('a dataset name needs a pool and a component: pool/name');
            const plan = [cmd.zfsCreate(p.name, { ...p.properties, ...p.userProperties }, p.parents)];
            const dry = await z.apply(plan, ctx.dryRun);
            return dry ?? getDataset(z, p.name);
          },
        }),

        update: mutation({
          summary: 'Set or inherit properties of a filesystem or volume',
          params: Type.Object(
            {
              name: DatasetName,
              properties: Type.Optional(DatasetProperties),
              userProperties: Type.Optional(UserProperties),
              inherit: Type.Optional(
                Type.Array(InheritName, {
                  maxItems: 64,
                  description: 'properties to reset to the inherited value',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          result: DatasetSchema,
          handler: async (p, ctx) => {
            const d = await z.ready();
            checkDialect(d, p.properties);
            const set = { ...p.properties, ...p.userProperties };
            if (Object.keys(set).length === 0 && !p.inherit?.length) throw invalid('nothing to change');
            await getDataset(z, p.name);
            const plan = [
              ...cmd.zfsSet(p.name, set),
              ...(p.inherit ?? []).map((k) => cmd.zfsInherit(p.name, k)),
            ];
            const dry = await z.apply(plan, ctx.dryRun);
            return dry ?? getDataset(z, p.name);
          },
        }),

        destroy: mutation({
          summary:
            'Destroy a filesystem or volume; `recursive` (children and snapshots) needs `confirm` = name',
          params: Type.Object(
            {
              name: DatasetName,
              recursive: Type.Optional(
                Type.Boolean({ description: 'also destroy children and snapshots (-r)' }),
              ),
              confirm: Type.Optional(Confirm),
            },
            { additionalProperties: false },
          ),
          result: Ok,
          handler: async (p, ctx) => {
            const d = await z.ready();
            if (!p.name.includes('/'))
              throw invalid('refused: the root dataset goes with its pool (pool.destroy)');
            if (p.recursive && p.confirm !== p.name) {
              throw invalid(`refused: a recursive destroy needs confirm = ${p.name}`, { dataset: p.name });
            }
            z.deps.usage.assertUnused('dataset', p.name, p.recursive === true);
            const ds = await getDataset(z, p.name);
            const plan = cmd.zfsDestroy(d, p.name, {
              recursive: p.recursive,
              filesystem: ds.type === 'filesystem',
            });
            const dry = await z.apply(plan, ctx.dryRun, { tolerate: tolerateNotMounted });
            return dry ?? {};
          },
        }),
      },
    }),
    defineMethod({
      name: 'dataset.get',
      summary: 'One dataset with all its properties (exact values)',
      params: Type.Object({ name: DatasetName }, { additionalProperties: false }),
      result: DatasetSchema,
      role: 'auditor',
      mutating: false,
      handler: async (p) => {
        await z.ready();
        const ds = await getDataset(z, p.name);
        const props = await z.driver.getProperties(p.name);
        return { ...ds, properties: Object.fromEntries(props) };
      },
    }),

    changeMethod(z, {
      name: 'zvol.create',
      summary: 'Create a volume (block device) of a given size',
      params: Type.Object(
        {
          name: DatasetName,
          size: Size,
          sparse: Type.Optional(Type.Boolean({ description: 'no reservation (thin provisioning, -s)' })),
          blocksize: Type.Optional(
            Type.Union(
              ['4K', '8K', '16K', '32K', '64K', '128K'].map((v) => Type.Literal(v)),
              { description: 'volblocksize (creation only)' },
            ),
          ),
          properties: Type.Optional(DatasetProperties),
        },
        { additionalProperties: false },
      ),
      result: DatasetSchema,
      role: 'admin',
      check: (p, d) => {
        requireZvols(d);
        checkDialect(d, p.properties);
      },
      plan: (p) => [cmd.zvolCreate({ ...p, size: String(p.size) })],
      answer: (p) => getDataset(z, p.name),
    }),

    changeMethod(z, {
      name: 'zvol.resize',
      summary: 'Change the size of a volume; shrinking needs `allowShrink`',
      params: Type.Object(
        {
          name: DatasetName,
          size: Size,
          allowShrink: Type.Optional(
            Type.Boolean({ description: 'shrinking cuts off data at the end of the volume' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: DatasetSchema,
      role: 'admin',
      check: async (p, d) => {
        requireZvols(d);
        const ds = await getDataset(z, p.name);
        if (ds.type !== 'volume') throw invalid(`${p.name} is not a volume`, { dataset: p.name });
        const wanted = parseSize(String(p.size));
        if (wanted !== undefined && ds.volsize !== undefined && wanted < ds.volsize && !p.allowShrink) {
          throw conflict(`refused: ${p.name} would shrink from ${ds.volsize} to ${wanted} bytes`, {
            current: ds.volsize,
            wanted,
          });
        }
      },
      plan: (p) => cmd.zfsSet(p.name, { volsize: String(p.size) }),
      answer: (p) => getDataset(z, p.name),
    }),
  ];
}
