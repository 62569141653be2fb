/**
 * What holds on to a resource another subsystem owns, so that it is not destroyed from under
 * its user: an iSCSI LUN on a zvol, a virtual library on a dataset, a Bacula storage on a
 * directory. A subsystem registers a lookup; the owner asks before destroying and refuses with
 * `conflict`, naming the users. Lookups are plain functions of desired state: no method calls.
 */
import { RpcError } from '../rpc/errors.js';

export type UsageKind = 'dataset';

/** Who uses `name` (e.g. `iSCSI LUN 0 of iqn.…`), including children when `recursive`. */
export type UsageLookup = (name: string, recursive: boolean) => string[];

export class Usage {
  private lookups = new Map<UsageKind, UsageLookup[]>();

  register(kind: UsageKind, fn: UsageLookup): void {
    const list = this.lookups.get(kind) ?? [];
    list.push(fn);
    this.lookups.set(kind, list);
  }

  usersOf(kind: UsageKind, name: string, recursive = false): string[] {
    return (this.lookups.get(kind) ?? []).flatMap((fn) => fn(name, recursive));
  }

  /** Throw `conflict` when anything uses `name`. */
  assertUnused(kind: UsageKind, name: string, recursive = false): void {
    const users = this.usersOf(kind, name, recursive);
    if (users.length)
      throw new RpcError('conflict', `${name} is in use by ${users.join(', ')}`, { [kind]: name, users });
  }
}
