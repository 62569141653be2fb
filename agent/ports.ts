/**
 * Declared seams between subsystems. A subsystem that offers something to others declares a
 * typed port in its own `agent/<name>/port.ts` (`definePort<T>(name, provider)`) and provides
 * it from its service (`deps.ports.provide(port, impl)`); a subsystem that uses it imports
 * only that port.ts and asks for it when a call needs it (`deps.ports.need(port)`). A port
 * whose provider is not loaded answers `unavailable` naming the subsystem to load. Nothing
 * else crosses between subsystems (test/core/ports-meta.test.ts checks the imports).
 */
import { unavailable } from '../rpc/errors.js';

export interface Port<T> {
  /** `zfs.zvols`, `backup.bacula` */
  readonly name: string;
  /** the subsystem that provides it */
  readonly provider: string;
  /** phantom: the port's interface */
  readonly _type?: T;
}

export function definePort<T>(name: string, provider: string): Port<T> {
  return { name, provider };
}

export class Ports {
  private impls = new Map<string, unknown>();

  provide<T>(port: Port<T>, impl: T): void {
    if (this.impls.has(port.name)) throw new Error(`ports: ${port.name} provided twice`);
    this.impls.set(port.name, impl);
  }

  has(port: Port<unknown>): boolean {
    return this.impls.has(port.name);
  }

  /** The provider's implementation; `unavailable` when its subsystem is not loaded. */
  need<T>(port: Port<T>): T {
    const impl = this.impls.get(port.name) as T | undefined;
    if (impl === undefined)
      throw unavailable(`the ${port.provider} subsystem is not loaded (it provides ${port.name})`, {
        reason: `no provider for ${port.name}`,
        port: port.name,
      });
    return impl;
  }

  names(): string[] {
    return [...this.impls.keys()].sort();
  }
}
