/**
 * What a subsystem service receives from the agent. Services are plain factories
 * `(deps) => Service`; nothing is a global singleton, so tests build an agent with fakes
 * (runner, sysroot, clock) or real components as they need.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GidRole } from '../rpc/identity.js';
import type { AnyMethodDef } from '../rpc/registry.js';
import type { Identity } from '../rpc/roles.js';
import type { AlertEngine } from './alert-engine.js';
import type { AuditLog } from './audit.js';
import type { CalendarRegistry } from './calendar-registry.js';
import type { Capabilities } from './capabilities.js';
import type { Config, ConfigSlice } from './config.js';
import type { ConfigSet } from './config-set/index.js';
import type { EventBus } from './events.js';
import type { JobManager } from './jobs.js';
import type { Layout } from './layout.js';
import type { Locks } from './locks.js';
import type { MetricsRegistry } from './metrics-registry.js';
import type { Port, Ports } from './ports.js';
import type { Runner } from './runner.js';
import type { SecretStore } from './secrets.js';
import type { Store } from './store.js';
import type { Usage } from './usage.js';

export interface Clock {
  now(): number;
}

export interface AgentDeps {
  layout: Layout;
  config: Config;
  /** etc/calypso/secrets.env, one serialised store for every subsystem. Never log the values. */
  secrets: SecretStore;
  log: Logger;
  store: Store;
  runner: Runner;
  events: EventBus;
  jobs: JobManager;
  audit: AuditLog;
  clock: Clock;
  /** Root of the tree the probes read (`/` in production, a recorded tree in tests). */
  sysroot: string;
  capabilities: Capabilities;
  /** The managed-config pipeline: a subsystem registers its generated files as a target. */
  configSet: ConfigSet;
  /** Cross-subsystem holds (a LUN on a zvol): owners check before destroying. */
  usage: Usage;
  /** Named locks keyed by stable device identities (`lockKey('changer', byId)`). */
  locks: Locks;
  /** Declared seams between subsystems: `provide` what others may use, `need` what you use. */
  ports: Ports;
  /** The alert engine: every subsystem raises and clears alerts through it. */
  alerts: AlertEngine;
  /** Every alert source: the core's and those the subsystems declare (`Subsystem.alertSources`). */
  alertSources: readonly string[];
  /** Metrics the subsystems contribute to `/metrics` (`metrics.contribute(...)`). */
  metrics: MetricsRegistry;
  /** Scheduled maintenance the subsystems contribute to `maintenance.calendar` (`calendar.contribute(...)`). */
  calendar: CalendarRegistry;
  version: string;
}

export interface Service {
  name: string;
  methods: AnyMethodDef[];
  /** Called once the agent is up (start monitors, schedulers). Must not block readiness for long. */
  start?(): Promise<void> | void;
  /** Sees each RPC call's method, duration and outcome (metrics); the core times calls only when one does. */
  observeRpc?(method: string, seconds: number, ok: boolean): void;
  /** Receives the agent's in-process caller (same checks as the wire) once the core exists. */
  attach?(call: (method: string, params?: Record<string, unknown>) => Promise<unknown>): void;
  /** Extra WebSocket routes (e.g. the terminal), registered behind token authentication. */
  wsRoutes?(app: FastifyInstance, authenticate: (req: IncomingMessage) => Identity | undefined): void;
  /** Roles this subsystem grants by group id (directory groups), read at each Unix-socket connection. */
  gidRoles?(): readonly GidRole[];
  /** Called on shutdown, before the store closes. */
  stop?(): Promise<void> | void;
}

export type ServiceFactory = (deps: AgentDeps) => Service;

/**
 * A subsystem as the agent loads it: its service factory and its slice of calypso.yaml. Each
 * `agent/<subsystem>/service.ts` exports one; agent/subsystems.ts lists them.
 */
export interface Subsystem {
  name: string;
  service: ServiceFactory;
  config?: ConfigSlice;
  /** ports its service provides (from its own port.ts) */
  provides?: Port<unknown>[];
  /** ports of other subsystems it uses (it works without them: those calls answer `unavailable`) */
  needs?: Port<unknown>[];
  /** the `source` names of the alerts it raises (alert rules and notification routing name them) */
  alertSources?: readonly string[];
}
