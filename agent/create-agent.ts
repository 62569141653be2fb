/**
 * createAgent: builds the whole agent from its parts with no global state, so that tests run
 * it in-process (`inject`) or with real transports, against fakes or real components.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import pino from 'pino';
import { closeSession, newSession, RpcCore, type Session } from '../rpc/core.js';
import {
  loadPeerCred,
  type PeerCred,
  peerCredError,
  peerCredOf,
  peerCredPaths,
  UserDb,
  unixIdentity,
} from '../rpc/identity.js';
import { OutputBudget } from '../rpc/output-budget.js';
import { Registry } from '../rpc/registry.js';
import type { Identity } from '../rpc/roles.js';
import { UnixTransport } from '../rpc/unix-transport.js';
import type { WsTransport } from '../rpc/ws-transport.js';
import { AlertEngine } from './alert-engine.js';
import { CORE_ALERT_SOURCES } from './alert-rules.js';
import { AuditLog } from './audit.js';
import { CalendarRegistry } from './calendar-registry.js';
import { Capabilities } from './capabilities.js';
import { type Config, ConfigError, loadConfig, parseConfig } from './config.js';
import { ConfigSet } from './config-set/index.js';
import { coreService } from './core/service.js';
import type { AgentDeps, Clock, Service, ServiceFactory, Subsystem } from './deps.js';
import { EventBus, TOKEN_INVALIDATED } from './events.js';
import { JobManager } from './jobs.js';
import { createLayout, type Layout } from './layout.js';
import { Locks } from './locks.js';
import { createLogger } from './log.js';
import { MetricsRegistry } from './metrics-registry.js';
import { packageRoot, packageVersion } from './package-root.js';
import { Ports } from './ports.js';
import { createRunner, type Runner } from './runner.js';
import { SecretStore } from './secrets.js';
import { openStore, type Store } from './store.js';
import { fullConfigSchema, SUBSYSTEMS } from './subsystems.js';
import { TokenStore } from './tokens.js';
import { Usage } from './usage.js';
import { lazyModule } from './util/lazy.js';

/** loaded only when enabled: fastify is the largest part of the agent's memory */
const wsTransport = lazyModule<typeof import('../rpc/ws-transport.js')>(
  'the WebSocket transport (fastify)',
  () => import('../rpc/ws-transport.js'),
  'WsTransport',
);

export interface CreateAgentOptions {
  prefix: string;
  /** Config file; default <prefix>/etc/calypso/calypso.yaml. */
  configFile?: string;
  /** Config text or object given directly (tests); wins over the file. */
  config?: string | Partial<Config>;
  runner?: Runner;
  sysroot?: string;
  clock?: Clock;
  log?: Logger;
  /** Log to stdout as well as the file (foreground runs). */
  logStdout?: boolean;
  /** Replace the registered subsystems (tests); a bare factory is a subsystem with no config slice. */
  services?: (ServiceFactory | Subsystem)[];
  /** Validate handler results against their schemas. */
  checkResults?: boolean;
}

export interface Agent {
  deps: AgentDeps;
  registry: Registry;
  core: RpcCore;
  layout: Layout;
  /** Open the Unix socket (and the WebSocket when enabled). */
  listen(): Promise<{ socket: string; websocket?: string }>;
  /** Who a Unix-socket peer with these credentials is (the identity its connection gets). */
  identityOf(cred: PeerCred | undefined): Identity;
  /** Call a method in-process as the given identity (default: internal admin). */
  inject(method: string, params?: unknown, identity?: Partial<Identity>): Promise<unknown>;
  stop(): Promise<void>;
}

export async function createAgent(opts: CreateAgentOptions): Promise<Agent> {
  const startedAt = Date.now();
  const layout = createLayout(opts.prefix);
  const configFile = opts.configFile ?? layout.configFile;
  const subsystems: Subsystem[] = (opts.services ?? SUBSYSTEMS).map((s) =>
    typeof s === 'function' ? { name: s.name || 'service', service: s } : s,
  );
  // the core schema plus every slice the loaded subsystems declare, and those of the standard
  // subsystems, so that one calypso.yaml serves every agent (tests load fewer subsystems)
  const schema = fullConfigSchema([
    ...subsystems,
    ...SUBSYSTEMS.filter((s) => s.config && !subsystems.some((x) => x.config?.key === s.config?.key)),
  ]);
  let config: Config;
  if (typeof opts.config === 'string') config = parseConfig(opts.config, configFile, schema);
  else if (opts.config) config = parseConfig(JSON.stringify(opts.config), configFile, schema);
  else config = loadConfig(configFile, schema);
  const secrets = SecretStore.load(layout.secretsFile);
  const log =
    opts.log ??
    (await createLogger({
      level: config.log.level,
      file: config.log.file ? layout.agentLog : undefined,
      rotateSize: config.log.rotateSize,
      rotateCount: config.log.rotateCount,
      stdout: opts.logStdout,
    }));
  const clock = opts.clock ?? { now: Date.now };
  const runner = opts.runner ?? createRunner({ log: log.child({ area: 'exec' }) });
  mkdirSync(layout.runDir, { recursive: true });
  const store: Store = await openStore({ path: layout.lmdbDir });
  const events = new EventBus(clock.now);
  const jobs = new JobManager({
    db: store.db('jobs'),
    events,
    log,
    now: clock.now,
    retentionDays: config.jobs.retentionDays,
    maxFinished: config.jobs.maxFinished,
  });
  const interrupted = await jobs.recover();
  if (interrupted) log.warn(`jobs: ${interrupted} job(s) were interrupted by the previous stop`);
  const audit = new AuditLog(store.db('audit'), clock.now);
  const capabilities = new Capabilities(runner, opts.sysroot ?? '/');
  const version = packageVersion();
  const configSet = new ConfigSet({
    db: store.db('config'),
    journalDir: path.join(layout.stateDir, 'config-set'),
    runner,
    log: log.child({ area: 'config-set' }),
    now: clock.now,
    secrets,
    audit,
  });
  const deps: AgentDeps = {
    layout,
    config,
    secrets,
    log,
    store,
    runner,
    events,
    jobs,
    audit,
    clock,
    sysroot: opts.sysroot ?? '/',
    capabilities,
    configSet,
    usage: new Usage(),
    ports: new Ports(),
    locks: new Locks(),
    alertSources: [
      ...new Set([
        ...CORE_ALERT_SOURCES,
        ...[...subsystems, ...SUBSYSTEMS].flatMap((s) => s.alertSources ?? []),
      ]),
    ],
    metrics: new MetricsRegistry(),
    calendar: new CalendarRegistry(),
    alerts: new AlertEngine({
      db: store.db('alerts'),
      events,
      log: log.child({ area: 'alerts' }),
      now: clock.now,
    }),
    version,
  };
  const registry = new Registry();
  const tokens = new TokenStore(store.db('tokens'), clock.now);
  const services: Service[] = [coreService(deps, { registry, tokens, startedAt })];
  for (const s of subsystems) services.push(s.service(deps));
  for (const s of services) registry.register(s.methods);
  const observers = services.flatMap((s) => (s.observeRpc ? [s.observeRpc.bind(s)] : []));
  const core = new RpcCore({
    ...(observers.length
      ? {
          observe: (m: string, sec: number, ok: boolean) => {
            for (const o of observers) o(m, sec, ok);
          },
        }
      : {}),
    registry,
    audit,
    jobs,
    log,
    limits: config.agent.limits,
    checkResults: opts.checkResults ?? process.env.CALYPSO_CHECK_RESULTS === '1',
    revalidate: (identity) => (identity.tokenId ? tokens.isValid(identity.tokenId) : true),
    requirements: async (names) => {
      for (const n of names) await capabilities.require(n);
    },
  });

  // An apply that a crash cut short is completed or undone before anything else runs.
  const recovered = await configSet.recoverAll();
  for (const r of recovered)
    log.warn({ target: r.target, files: r.files }, `config: interrupted apply ${r.action}`);
  // Detection runs in the background; methods that need it await it.
  void capabilities.detect();
  const internal = new Map<string, Session>();
  const inject = (method: string, params: unknown, identity?: Partial<Identity>) => {
    const id: Identity = { user: 'internal', role: 'admin', transport: 'internal', ...identity };
    const key = `${id.user}/${id.role}/${id.transport}`;
    let session = internal.get(key);
    if (!session) {
      session = newSession(id, () => {});
      internal.set(key, session);
    }
    return core.call(method, params ?? {}, session);
  };
  for (const s of services) s.attach?.((m, p) => inject(m, p, { user: 'calypso-metrics', role: 'auditor' }));
  for (const s of services) await s.start?.();

  if (!loadPeerCred(peerCredPaths(packageRoot()))) {
    log.error(
      `socket: the SO_PEERCRED addon is not built (${peerCredError()}); every Unix-socket caller gets role none. Run \`npm run install\`.`,
    );
  }
  const users = new UserDb();
  const agentUid = process.getuid?.() ?? 0;
  // calypso.yaml's roles, and those the subsystems grant by group id (directory groups)
  const identityOf = (cred: PeerCred | undefined) =>
    unixIdentity(
      cred,
      config.roles,
      users,
      agentUid,
      services.flatMap((s) => s.gidRoles?.() ?? []),
    );
  let unix: UnixTransport | undefined;
  let ws: WsTransport | undefined;

  return {
    deps,
    registry,
    core,
    layout,
    identityOf,
    async listen() {
      const limits = config.agent.limits;
      // one set of output budgets for both transports: the total is the agent's
      const budget = new OutputBudget({
        perConnection: limits.maxBufferedBytes,
        perPeer: limits.maxQueuedBytesPerPeer,
        total: limits.maxQueuedBytesTotal,
      });
      const socketPath = config.agent.socket.path ?? layout.socket;
      unix = new UnixTransport({
        path: socketPath,
        mode: Number.parseInt(config.agent.socket.mode, 8),
        gid: users.gidOf(config.agent.socket.group),
        core,
        identify: (sock) => identityOf(peerCredOf(sock)),
        log,
        maxConnections: limits.maxConnections,
        maxMessageBytes: limits.maxMessageBytes,
        maxPublicMessageBytes: limits.maxPublicMessageBytes,
        maxBufferedBytes: limits.maxBufferedBytes,
        maxQueuedBytesTotal: limits.maxQueuedBytesTotal,
        idleTimeoutMs: limits.idleTimeoutSec * 1000,
        maxInflight: limits.maxInflight,
        maxPerUid: limits.maxPerUid,
        reservedForAdmin: limits.reservedForAdmin,
        budget,
        reservedForOperator: limits.reservedForOperator,
        reservedForAuditor: limits.reservedForAuditor,
      });
      await unix.listen();
      let websocket: string | undefined;
      if (config.agent.websocket.enabled) {
        const { WsTransport } = await wsTransport();
        const transport = new WsTransport({
          host: config.agent.websocket.host,
          port: config.agent.websocket.port,
          tls: config.agent.websocket.tls,
          tlsDir: layout.tlsDir,
          core,
          authenticate: (token) => {
            const rec = token ? tokens.verify(token) : undefined;
            return rec
              ? { user: `token:${rec.name}`, role: rec.role, transport: 'websocket', tokenId: rec.id }
              : undefined;
          },
          log,
          maxConnections: limits.maxConnections,
          maxMessageBytes: limits.maxMessageBytes,
          maxBufferedBytes: limits.maxBufferedBytes,
          maxQueuedBytesTotal: limits.maxQueuedBytesTotal,
          idleTimeoutMs: limits.idleTimeoutSec * 1000,
          maxInflight: limits.maxInflight,
          maxPerToken: limits.maxPerToken,
          reservedForAdmin: limits.reservedForAdmin,
          budget,
          reservedForOperator: limits.reservedForOperator,
          reservedForAuditor: limits.reservedForAuditor,
          maxUnauthenticated: limits.maxUnauthenticated,
          handshakeTimeoutMs: limits.handshakeTimeoutSec * 1000,
          origins: config.agent.websocket.origins,
          failedAuthPerMinute: limits.failedAuthPerMinute,
          keepAliveTimeoutMs: limits.httpKeepAliveSec * 1000,
          routes: services.flatMap((s) => (s.wsRoutes ? [s.wsRoutes] : [])),
        });
        ws = transport;
        await transport.listen();
        websocket = transport.address?.url;
        // a revoked or expired token's connections (and their subscriptions) end at once, audited
        events.on([TOKEN_INVALIDATED], (ev) => {
          const { id, reason } = ev.data as { id: string; reason: string };
          const closed = transport.closeToken(id, `token ${reason}`);
          if (closed)
            audit.append({
              user: 'agent',
              transport: 'websocket',
              method: 'auth.token.sessions.close',
              outcome: 'ok',
              detail: { token: id, reason, connections: closed },
            });
        });
      }
      return { socket: socketPath, websocket };
    },
    async inject(method, params, identity) {
      return inject(method, params, identity);
    },
    async stop() {
      await unix?.close();
      await ws?.close();
      for (const s of internal.values()) closeSession(s);
      capabilities.stop();
      await jobs.shutdown();
      for (const s of [...services].reverse()) {
        try {
          await s.stop?.();
        } catch (err) {
          log.error({ err, service: s.name }, `${s.name}: stop failed`);
        }
      }
      await audit.flushed();
      await store.close();
      log.flush?.();
    },
  };
}

export { ConfigError, pino };
