/**
 * Capabilities, not crashes (docs/design.md principle 4): at start the agent detects which tools
 * and kernel features exist. `system.capabilities` reports them; a service whose backend is
 * missing calls `require()` and the caller gets `unavailable` with the reason.
 */
import { setMaxListeners } from 'node:events';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { RpcError } from '../rpc/errors.js';
import type { Runner } from './runner.js';

export interface Capability {
  name: string;
  available: boolean;
  version?: string;
  path?: string;
  reason?: string;
  /** dialect or variant, e.g. zfs: `openzfs` or `zfs-fuse` */
  variant?: string;
}

/**
 * A capability check. Each subsystem declares its own from its folder (`deps.capabilities.declare`
 * in its service factory); the core lists none.
 */
export interface Probe {
  name: string;
  /** Binaries that must all exist. */
  bins: string[];
  /** argv (after the binary) that prints a version, and a regexp to pick it out. */
  versionArgs?: string[];
  versionFrom?: RegExp;
  okCodes?: number[];
  /** Kernel feature paths (relative to the sysroot) that must exist. */
  paths?: string[];
  variant?: (runner: Runner) => string | undefined;
  /** Why the tool, though installed, cannot be used by the agent's user (undefined: it can). */
  unusable?: () => string | undefined;
}

const uid = () => process.getuid?.() ?? 0;

/** The reason a probe's tool is installed but not usable by the agent's user, in one sentence. */
export function notUsable(why: string): string {
  return `installed, not usable by the agent's user (uid ${uid()}): ${why}; run the agent as root (npm run demo as root runs it in a sandbox with its own daemons)`;
}

/** Why the agent's user may not open `p` (EACCES only: a missing socket is "not running", not this). */
export function closedToUs(p: string, what: string): string | undefined {
  try {
    accessSync(p, constants.R_OK | constants.W_OK);
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EACCES') return undefined;
    return notUsable(`${what} (${p}) is closed to it`);
  }
}

/** Not root: for tools that answer root only. */
export function rootOnly(why: string): string | undefined {
  return uid() === 0 ? undefined : notUsable(why);
}

export class Capabilities {
  private results = new Map<string, Capability>();
  private detecting: Promise<void> | undefined;
  /** each probe of the detection in flight or done: `require()` waits for its own one only */
  private pending = new Map<string, Promise<Capability>>();
  private abort = (() => {
    const c = new AbortController();
    setMaxListeners(0, c.signal); // one listener per version command in flight; services add probes
    return c;
  })();

  private probes: Probe[] = [];

  constructor(
    private runner: Runner,
    private sysroot = '/',
  ) {}

  /**
   * A service declares the tools and kernel features it needs (in its factory, before detection
   * runs); a name already known is replaced, so a subsystem owns its own checks.
   */
  declare(...probes: Probe[]): void {
    for (const p of probes) {
      this.probes = this.probes.filter((q) => q.name !== p.name);
      this.probes.push(p);
    }
    if (this.detecting) void this.detect();
  }

  /** Detect everything; versions are asked in parallel with a short timeout each. */
  detect(): Promise<void> {
    const each = this.probes.map((p) => [p.name, this.detectOne(p)] as const);
    this.pending = new Map(each);
    this.detecting = (async () => {
      const found = await Promise.all(each.map(([, c]) => c));
      this.results = new Map(found.map((c) => [c.name, c]));
    })();
    return this.detecting;
  }

  async all(): Promise<Capability[]> {
    if (!this.detecting) await this.detect();
    await this.detecting;
    return [...this.results.values()];
  }

  /** Stop detection in flight (agent shutdown): its version commands are killed. */
  stop(): void {
    this.abort.abort();
  }

  /** Synchronous view; undefined before detection finished. */
  get(name: string): Capability | undefined {
    return this.results.get(name);
  }

  /** Throw `unavailable` with the reason unless the capability is present. */
  async require(name: string): Promise<Capability> {
    if (!this.detecting) void this.detect();
    // its own probe only: a method's first call does not wait for the slowest tool of another subsystem
    // (under the kernel lab's TCG, `radosgw-admin --version` alone took 7 s at the agent's start)
    const c = await this.pending.get(name);
    if (!c)
      throw new RpcError('unavailable', `${name}: unknown capability`, {
        reason: 'not probed',
        capability: name,
      });
    if (!c.available)
      throw new RpcError('unavailable', `${name}: ${c.reason}`, { reason: c.reason, capability: name });
    return c;
  }

  private async detectOne(p: Probe): Promise<Capability> {
    const missing = p.bins.filter((b) => !this.runner.which(b));
    if (missing.length)
      return { name: p.name, available: false, reason: `${missing.join(', ')} not installed` };
    const absent = (p.paths ?? []).filter((rel) => !existsSync(path.join(this.sysroot, rel)));
    if (absent.length) {
      return {
        name: p.name,
        available: false,
        path: this.runner.which(p.bins[0]!),
        reason: `kernel support missing: /${absent.join(', /')} does not exist (module not loaded?)`,
      };
    }
    const cap: Capability = { name: p.name, available: true, path: this.runner.which(p.bins[0]!) };
    const unusable = p.unusable?.();
    if (unusable) {
      cap.available = false;
      cap.reason = unusable;
    }
    const variant = p.variant?.(this.runner);
    if (variant) cap.variant = variant;
    if (p.versionArgs) {
      try {
        const r = await this.runner.run([p.bins[0]!, ...p.versionArgs], {
          timeoutMs: 3000,
          signal: this.abort.signal,
          okCodes: p.okCodes ?? [0],
          maxOutput: 65536,
        });
        const text = `${r.stdout}\n${r.stderr}`;
        const m = (p.versionFrom ?? /(\d+\.\d+[\w.-]*)/).exec(text);
        if (m?.[1]) cap.version = m[1];
      } catch {
        /* present but silent about its version */
      }
    }
    return cap;
  }
}
