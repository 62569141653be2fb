/**
 * remote.pair / list / get / test / unpair on the sending side; remote.authorize / deauthorize on
 * the receiving side (the forced-command line in authorized_keys).
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { createPatch } from 'diff';
import { conflict, failed, invalid, RpcError } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { zfsResumeToken } from '../zfs/port.js';
import type { RemoteContext } from './context.js';
import {
  Host,
  keySecret,
  RemoteDataset,
  RemoteName,
  type RemoteRecord,
  RemoteSchema,
  UserName,
} from './model.js';
import {
  authorizedKeyLine,
  editAuthorizedKeys,
  fingerprint,
  keygenArgv,
  keyscanArgv,
  parseKeyscan,
  parsePublicKey,
} from './ssh.js';

const Named = Type.Object({ name: RemoteName }, { additionalProperties: false });

/** The read a remote.test (and every replication run) starts with: the prefix's snapshots. */
export const probeArgv = (prefix: string): string[] => zfsResumeToken(prefix);

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}

export function remoteMethods(x: RemoteContext) {
  const { deps, store } = x;
  const authorize = async (name: string, line: string | undefined, dryRun: boolean) => {
    const file = x.cfg.authorizedKeys;
    const before = await readText(file);
    const after = editAuthorizedKeys(before, name, line);
    if (dryRun)
      return {
        dryRun: true as const,
        commands: [],
        files: [{ path: file, diff: createPatch(file, before, after) }],
        notes: [line ? `the key of ${name} may then only run the guard` : `the key of ${name} is removed`],
      };
    if (after !== before) await writeFileAtomic(file, after, { mode: 0o600, dirMode: 0o700 });
    return { name, file, changed: after !== before };
  };

  return [
    ...resourceMethods({
      prefix: 'remote',
      listSummary: 'Remotes: other appliances this one replicates to over SSH',
      label: 'remote',
      item: RemoteSchema,
      key: { field: 'name', schema: RemoteName },
      list: () => store.remotes(),
      mutations: {
        pair: mutation({
          summary:
            'Pair with another appliance: make an ed25519 key, pin the remote’s host key (ssh-keyscan)',
          description:
            'The private key goes to secrets.env; the answer’s publicKey is what the remote authorizes ' +
            '(remote.authorize there, or the authorizedKey line). The host key seen now is pinned: a changed ' +
            'host key later fails every connection. hostKeyFingerprint, when given, must match what the remote shows.',
          params: Type.Object(
            {
              name: RemoteName,
              host: Host,
              port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'default 22' })),
              user: Type.Optional(UserName),
              prefix: RemoteDataset,
              hostKeyFingerprint: Type.Optional(
                Type.String({
                  pattern: '^SHA256:[A-Za-z0-9+/]{43}$',
                  description: 'expected host key (SHA256:…)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          result: RemoteSchema,
          handler: async (p, ctx) => {
            if (store.remote(p.name)) throw conflict(`remote ${p.name} exists already`, { name: p.name });
            const target = { host: p.host, port: p.port ?? 22, user: p.user ?? 'root' };
            // a fixed place per name (not mkdtemp), so that the dry run shows the very argv the real run uses
            const tmp = path.join(deps.layout.stateDir, 'remote', `.pair-${p.name}`);
            const file = path.join(tmp, 'id_ed25519');
            const comment = `calypso@${deps.store.applianceId().slice(0, 8)}:${p.name}`;
            if (ctx.dryRun)
              return {
                dryRun: true,
                commands: [keyscanArgv(target), keygenArgv(file, comment)],
                notes: [`the private key goes to secrets.env as ${keySecret(p.name)}`],
              };
            const scan = await deps.runner
              .run(keyscanArgv(target), { timeoutMs: 20_000, signal: ctx.signal, okCodes: [0, 1] })
              .catch((e: Error) => {
                throw failed(`ssh-keyscan of ${p.host}:${target.port} failed: ${e.message}`);
              });
            const keys = parseKeyscan(scan.stdout);
            if (keys.length === 0)
              throw failed(
                `no ed25519 host key answered at ${p.host}:${target.port} (is sshd listening there?)`,
                {
                  stderr: scan.stderr.slice(-500),
                },
              );
            const hostKey = keys[0]!;
            const fp = fingerprint(hostKey.split(' ')[2]!);
            if (p.hostKeyFingerprint && p.hostKeyFingerprint !== fp)
              throw conflict(`the host key of ${p.host} is ${fp}, not the ${p.hostKeyFingerprint} expected`);
            await rm(tmp, { recursive: true, force: true });
            await mkdir(tmp, { recursive: true, mode: 0o700 });
            let priv: string;
            let pub: string;
            try {
              await deps.runner.run(keygenArgv(file, comment), { timeoutMs: 30_000, signal: ctx.signal });
              priv = await readFile(file, 'utf8');
              pub = (await readFile(`${file}.pub`, 'utf8')).trim();
            } finally {
              await rm(tmp, { recursive: true, force: true });
            }
            await deps.secrets.update([
              {
                key: keySecret(p.name),
                value: Buffer.from(priv).toString('base64'),
                comment: `remote ${p.name}: the ssh key (base64)`,
              },
            ]);
            const rec: RemoteRecord = {
              name: p.name,
              ...target,
              prefix: p.prefix,
              hostKey,
              hostKeyFingerprint: fp,
              publicKey: pub,
              createdAt: deps.clock.now(),
            };
            await store.putRemote(rec);
            ctx.auditDetail?.({ hostKeyFingerprint: fp });
            return rec;
          },
        }),
        unpair: mutation({
          summary: 'Forget a remote: its record, its key in secrets.env and its key files',
          params: Named,
          result: Type.Object({ name: Type.String() }),
          handler: async (p, ctx) => {
            x.mustGet(p.name);
            const users = store.tasks().filter((t) => t.remote === p.name);
            if (users.length)
              throw conflict(
                `remote ${p.name} is used by replication tasks ${users.map((t) => t.id).join(', ')}`,
              );
            const dir = path.dirname(x.filesOf(p.name).key);
            if (ctx.dryRun)
              return { dryRun: true, commands: [], notes: [`removes ${keySecret(p.name)} and ${dir}`] };
            await store.deleteRemote(p.name);
            await deps.secrets.update([{ key: keySecret(p.name), value: undefined }]);
            await rm(dir, { recursive: true, force: true });
            return { name: p.name };
          },
        }),
        authorize: mutation({
          summary:
            'Receiving side: let a sending appliance’s key replicate into one dataset prefix (forced command)',
          description:
            'Adds to authorized_keys (config remote.authorizedKeys) a line whose key may only run the guard: ' +
            'zfs receive, the snapshot/GUID list, the resume token, the agent’s own holds and the destroy of ' +
            'a snapshot (retention), under prefix. pull: true also lets it zfs send the snapshots under prefix ' +
            '(the other appliance pulls them): such a key reads every snapshot under prefix.',
          params: Type.Object(
            {
              name: RemoteName,
              publicKey: Type.String({
                maxLength: 200,
                description: 'the sender’s key (remote.pair’s publicKey)',
              }),
              prefix: RemoteDataset,
              pull: Type.Optional(
                Type.Boolean({
                  description:
                    'the key may also read (zfs send) every snapshot under prefix, for pull tasks (default false)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          result: Type.Object({ name: Type.String(), file: Type.String(), changed: Type.Boolean() }),
          handler: async (p, ctx) => {
            if (!parsePublicKey(p.publicKey)) throw invalid('publicKey is not an ssh-ed25519 public key');
            const line = authorizedKeyLine({
              node: x.guard.node,
              guard: x.guard.script,
              prefix: p.prefix,
              publicKey: p.publicKey,
              name: p.name,
              send: p.pull === true,
            });
            return authorize(p.name, line, ctx.dryRun);
          },
        }),
        deauthorize: mutation({
          summary: 'Receiving side: remove a sending appliance’s key from authorized_keys',
          params: Named,
          result: Type.Object({ name: Type.String(), file: Type.String(), changed: Type.Boolean() }),
          handler: (p, ctx) => authorize(p.name, undefined, ctx.dryRun),
        }),
      },
    }),
    defineMethod({
      name: 'remote.test',
      summary: 'Connect to a remote with its key and pinned host key and read its dataset prefix',
      params: Named,
      result: Type.Object({
        name: Type.String(),
        ok: Type.Boolean(),
        ms: Type.Number({ description: 'round trip of the test command' }),
        resumeTokens: Type.Boolean({ description: 'the remote ZFS keeps receive resume tokens (OpenZFS)' }),
        detail: Type.String(),
      }),
      role: 'operator',
      mutating: false,
      handler: async (p, ctx) => {
        const r = x.mustGet(p.name);
        const t0 = Date.now();
        try {
          const res = await x.runRemote(r, probeArgv(r.prefix), { signal: ctx.signal, okCodes: [0, 1, 2] });
          const ms = Date.now() - t0;
          const refused = /calypso: refused: (.*)/.exec(res.stderr)?.[1];
          if (refused)
            return { name: r.name, ok: false, ms, resumeTokens: false, detail: `refused: ${refused}` };
          if (/does not exist/.test(res.stderr))
            return {
              name: r.name,
              ok: false,
              ms,
              resumeTokens: false,
              detail: `${r.prefix} does not exist on the remote`,
            };
          const resumeTokens = res.code === 0;
          return {
            name: r.name,
            ok: true,
            ms,
            resumeTokens,
            detail: resumeTokens
              ? 'connected; the remote keeps resume tokens'
              : 'connected; the remote ZFS has no resume tokens (zfs-fuse): a broken run restarts from the last common snapshot',
          };
        } catch (e) {
          const msg =
            e instanceof RpcError
              ? `${e.message} ${String((e.data as { stderr?: string })?.stderr ?? '')}`
              : String(e);
          return {
            name: r.name,
            ok: false,
            ms: Date.now() - t0,
            resumeTokens: false,
            detail: msg.trim().slice(-400),
          };
        }
      },
    }),
  ];
}
