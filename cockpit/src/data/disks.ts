/** disk.* — the disk inventory (probes/types.ts `Disk`, as disk.list returns it). */
import type { Item, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';

export type Disk = Item<'disk.list'>;

/** disk.smart: smartctl's verdict (read on demand: it wakes the disk and takes a moment). */
export type Smart = Result<'disk.smart'>;

type Opts = { signal?: AbortSignal };

export const listDisks = (c: AgentClient, o: Opts = {}) => c.items<Disk>('disk.list', {}, o);

export const readSmart = (c: AgentClient, disk: Disk) => c.call<Smart>('disk.smart', { disk: disk.id });

/** Turn the locate LED of the enclosure slot holding `disk` on or off. */
export function setLocate(c: AgentClient, disk: Disk, on: boolean) {
  if (!disk.enclosure) return Promise.reject(new Error(`${disk.name} is not in an enclosure slot`));
  return c.call<Result<'enclosure.locate'>>('enclosure.locate', {
    enclosure: disk.enclosure.id,
    slot: disk.enclosure.slot,
    on,
  });
}

/** Events that change the inventory (hotplug). */
export const DISK_TOPICS = ['disk.*', 'hardware.changed'];

/** PASSED / FAILED / '' (not read, or no verdict). */
export function smartLabel(s: Smart | undefined): string {
  if (!s || s.passed === undefined) return '';
  return s.passed ? 'PASSED' : 'FAILED';
}

/** Text a search box matches against. */
export function diskSearchText(d: Disk): string {
  return [d.name, d.path, d.model, d.vendor, d.serial, d.wwn, d.transport, d.hba, d.id]
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

/** A disk the create-pool wizard may offer: whole, not virtual, not partitioned, held by nothing (a pool's disks are held or partitioned). */
export function isFreeDisk(d: Disk): boolean {
  return d.type === 'disk' && !d.virtual && d.partitions.length === 0 && (d.holders?.length ?? 0) === 0;
}
