/**
 * system.* and rpc.discover: liveness, host facts, capabilities, a self-test job, the OpenRPC document.
 */
import os from 'node:os';
import { type Static, Type } from '@sinclair/typebox';
import { buildOpenRpc } from '../../rpc/openrpc.js';
import { type AnyMethodDef, defineMethod, RawJson } from '../../rpc/registry.js';
import type { AgentDeps } from '../deps.js';
import { systemInformation } from '../util/lazy-modules.js';
import { sleep } from '../util/time.js';
import type { CoreExtra } from './extra.js';
import { Empty } from './schemas.js';

const HOST_INFO_TTL_MS = 2000;

const HostInfoSchema = Type.Object({
  hostname: Type.String(),
  os: Type.Object({
    distro: Type.String(),
    release: Type.String(),
    kernel: Type.String(),
    arch: Type.String(),
  }),
  cpu: Type.Object({ model: Type.String(), cores: Type.Integer(), physicalCores: Type.Integer() }),
  memory: Type.Object({ total: Type.Number(), available: Type.Number(), used: Type.Number() }),
  uptime: Type.Number({ description: 'host uptime in seconds' }),
  agentUptime: Type.Number(),
  version: Type.String(),
});
type HostInfo = Static<typeof HostInfoSchema>;

async function collectHostInfo(deps: AgentDeps, extra: CoreExtra): Promise<HostInfo> {
  const si = await systemInformation(); // loaded on first use: ~10 MB
  const [osInfo, cpu, mem] = await Promise.all([si.osInfo(), si.cpu(), si.mem()]);
  return {
    hostname: os.hostname(),
    os: { distro: osInfo.distro, release: osInfo.release, kernel: osInfo.kernel, arch: osInfo.arch },
    cpu: {
      model: `${cpu.manufacturer} ${cpu.brand}`.trim(),
      cores: cpu.cores,
      physicalCores: cpu.physicalCores,
    },
    memory: { total: mem.total, available: mem.available, used: mem.active },
    uptime: si.time().uptime,
    agentUptime: Math.round((deps.clock.now() - extra.startedAt) / 1000),
    version: deps.version,
  };
}

export function systemMethods(deps: AgentDeps, extra: CoreExtra): AnyMethodDef[] {
  let openRpcDoc: RawJson | undefined;
  // systeminformation spawns its own children (not through the runner): concurrent calls share
  // one collection and its answer is reused briefly, so that a batch of system.info cannot
  // start hundreds of processes (issue #15 item 6)
  let info: { at: number; value: Promise<HostInfo> } | undefined;
  const hostInfo = (): Promise<HostInfo> => {
    const now = deps.clock.now();
    if (!info || now - info.at > HOST_INFO_TTL_MS) {
      const value = collectHostInfo(deps, extra);
      info = { at: now, value };
      value.catch(() => {
        if (info?.value === value) info = undefined;
      });
    }
    return info.value;
  };
  return [
    defineMethod({
      name: 'system.ping',
      summary: 'Liveness check; returns the agent version and uptime.',
      params: Empty,
      result: Type.Object({ version: Type.String(), uptime: Type.Number({ description: 'seconds' }) }),
      role: 'public',
      mutating: false,
      handler: async () => ({
        version: deps.version,
        uptime: Math.round((deps.clock.now() - extra.startedAt) / 100) / 10,
      }),
    }),
    defineMethod({
      name: 'system.info',
      summary: 'Host, OS, CPU, memory and uptime.',
      params: Empty,
      result: HostInfoSchema,
      role: 'auditor',
      mutating: false,
      handler: () => hostInfo(),
    }),
    defineMethod({
      name: 'system.capabilities',
      summary: 'Which storage tools and kernel features exist, with versions, and why not where missing.',
      params: Empty,
      result: Type.Array(
        Type.Object({
          name: Type.String(),
          available: Type.Boolean(),
          version: Type.Optional(Type.String()),
          path: Type.Optional(Type.String()),
          reason: Type.Optional(Type.String()),
          variant: Type.Optional(Type.String()),
        }),
      ),
      role: 'auditor',
      mutating: false,
      handler: () => deps.capabilities.all(),
    }),
    defineMethod({
      name: 'system.selftest',
      summary: 'A job that exercises the job machinery: reports progress each step for the given time.',
      description:
        'Useful to check that progress events reach a client, and that abort and restart handling work.',
      params: Type.Object(
        {
          seconds: Type.Number({ minimum: 0, maximum: 3600, description: 'how long to run' }),
          steps: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 1000, description: 'progress reports; default 10' }),
          ),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({ steps: Type.Integer() }),
      role: 'admin',
      mutating: false,
      job: { lock: () => 'system.selftest', title: (p) => `self-test for ${p.seconds} s` },
      handler: async (p, ctx) => {
        const steps = p.steps ?? 10;
        for (let i = 1; i <= steps; i++) {
          await sleep((p.seconds * 1000) / steps, ctx.signal);
          ctx.progress((i / steps) * 100, `step ${i} of ${steps}`);
        }
        return { steps };
      },
    }),
    defineMethod({
      name: 'rpc.discover',
      summary: 'The OpenRPC document of every method.',
      params: Empty,
      result: Type.Object({ openrpc: Type.String() }, { additionalProperties: true }),
      role: 'public',
      mutating: false,
      handler: async () => {
        // the registry is fixed once the agent runs: build and serialise the document once
        openRpcDoc ??= new RawJson(buildOpenRpc(extra.registry, deps.version));
        return openRpcDoc as unknown as { openrpc: string };
      },
    }),
  ];
}
