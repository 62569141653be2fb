/**
 * The appliance's filesystem layout (docs/design.md, "Filesystem domains").
 *
 * This is the only module that spells the appliance's paths. Every path is rooted at a
 * prefix so that a developer, a test or a demo runs the whole agent unprivileged inside a
 * temporary directory; the production prefix is `/`.
 */
import path from 'node:path';

export const DATA_AREAS = [
  'db',
  'backups',
  'object',
  'shares',
  'vtl',
  'iscsi',
  'uploads',
  'cache',
  '_system',
] as const;
export type DataArea = (typeof DATA_AREAS)[number];

export interface Layout {
  prefix: string;
  /** /opt/adastra/calypso */
  optRoot: string;
  releases: string;
  current: string;
  thirdParty: string;
  /** /etc/calypso */
  etc: string;
  configFile: string;
  secretsFile: string;
  tlsDir: string;
  integrationsDir: string;
  systemDir: string;
  /** /srv/calypso */
  srv: string;
  data: Record<DataArea, string>;
  /** /var/log/calypso */
  logDir: string;
  agentLog: string;
  /** /var/lib/calypso */
  stateDir: string;
  lmdbDir: string;
  /** /run/calypso */
  runDir: string;
  socket: string;
  pidFile: string;
  /** generated subsystem configuration (rendered from LMDB) lives under etc/calypso/system */
  generated(subsystem: string): string;
}

/** Resolve the prefix from an explicit value, then CALYPSO_PREFIX, then `/`. */
export function resolvePrefix(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const p = explicit ?? env.CALYPSO_PREFIX ?? '/';
  return path.resolve(p);
}

export function createLayout(prefix = '/'): Layout {
  const root = path.resolve(prefix);
  const at = (...parts: string[]) => path.join(root, ...parts);
  const optRoot = at('opt/adastra/calypso');
  const etc = at('etc/calypso');
  const srv = at('srv/calypso');
  const data = Object.fromEntries(DATA_AREAS.map((a) => [a, path.join(srv, a)])) as Record<DataArea, string>;
  const stateDir = at('var/lib/calypso');
  const runDir = at('run/calypso');
  const logDir = at('var/log/calypso');
  const systemDir = path.join(etc, 'system');
  return {
    prefix: root,
    optRoot,
    releases: path.join(optRoot, 'releases'),
    current: path.join(optRoot, 'current'),
    thirdParty: path.join(optRoot, 'third_party'),
    etc,
    configFile: path.join(etc, 'calypso.yaml'),
    secretsFile: path.join(etc, 'secrets.env'),
    tlsDir: path.join(etc, 'tls'),
    integrationsDir: path.join(etc, 'integrations'),
    systemDir,
    srv,
    data,
    logDir,
    agentLog: path.join(logDir, 'agent.log'),
    stateDir,
    lmdbDir: path.join(stateDir, 'state'),
    runDir,
    socket: path.join(runDir, 'agent.sock'),
    pidFile: path.join(runDir, 'agent.pid'),
    generated: (subsystem: string) => path.join(systemDir, subsystem),
  };
}
