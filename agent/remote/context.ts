/** What the remote methods share: the store, the runtime key files, and `ssh` to run one zfs command remotely. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Static } from '@sinclair/typebox';
import { notFound, unavailable } from '../../rpc/errors.js';
import { configOf } from '../config.js';
import type { AgentDeps } from '../deps.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { RunResult } from '../runner.js';
import { remoteConfig } from './config.js';
import { keySecret, type RemoteRecord, RemoteStore } from './model.js';
import { type RemoteFiles, sshArgv } from './ssh.js';

export interface RemoteContext {
  deps: AgentDeps;
  store: RemoteStore;
  cfg: Static<typeof remoteConfig.schema>;
  /** where a remote's key and known_hosts are written for ssh (under var/lib/calypso/remote/<name>) */
  filesOf(name: string): RemoteFiles;
  /** write the key (from secrets.env) and the pinned host key, when they differ from what is there */
  materialize(r: RemoteRecord): Promise<RemoteFiles>;
  mustGet(name: string): RemoteRecord;
  /** the argv that runs `argv` on the remote (through a run's connection with `controlPath`, mux.ts) */
  ssh(r: RemoteRecord, argv: string[], controlPath?: string): string[];
  /** run one command on the remote; a refusal or failure is an error carrying the remote's stderr */
  runRemote(
    r: RemoteRecord,
    argv: string[],
    o?: { signal?: AbortSignal; okCodes?: number[]; controlPath?: string; input?: string },
  ): Promise<RunResult>;
  /** the forced command's program (this agent's guard-main.js) and the node that runs it */
  guard: { node: string; script: string };
}

export function createRemoteContext(deps: AgentDeps): RemoteContext {
  const store = new RemoteStore(deps.store.db('config'));
  const cfg = configOf(deps.config, remoteConfig);
  const filesOf = (name: string): RemoteFiles => {
    const dir = path.join(deps.layout.stateDir, 'remote', name);
    return { key: path.join(dir, 'id_ed25519'), knownHosts: path.join(dir, 'known_hosts') };
  };
  const same = (file: string, text: string) => existsSync(file) && readFileSync(file, 'utf8') === text;
  const ctx: RemoteContext = {
    deps,
    store,
    cfg,
    filesOf,
    async materialize(r) {
      const f = filesOf(r.name);
      const b64 = deps.secrets.get(keySecret(r.name));
      if (!b64) throw unavailable(`the key of remote ${r.name} is missing from secrets.env: pair it again`);
      const key = Buffer.from(b64, 'base64').toString('utf8');
      if (!same(f.key, key)) await writeFileAtomic(f.key, key, { mode: 0o600 });
      const known = `${r.hostKey}\n`;
      if (!same(f.knownHosts, known)) await writeFileAtomic(f.knownHosts, known, { mode: 0o600 });
      return f;
    },
    mustGet(name) {
      const r = store.remote(name);
      if (!r) throw notFound(`remote ${name} does not exist`, { name });
      return r;
    },
    ssh: (r, argv, controlPath) => sshArgv(r, filesOf(r.name), argv, controlPath),
    async runRemote(r, argv, o = {}) {
      await ctx.materialize(r);
      return deps.runner.run(ctx.ssh(r, argv, o.controlPath), {
        timeoutMs: cfg.commandTimeoutSec * 1000,
        ...(o.signal ? { signal: o.signal } : {}),
        okCodes: o.okCodes ?? [0],
        ...(o.input !== undefined ? { input: o.input } : {}),
      });
    },
    guard: {
      node: process.execPath,
      script: fileURLToPath(new URL('./guard-main.js', import.meta.url)),
    },
  };
  return ctx;
}
