/**
 * The hardware service: disks, HBAs, enclosures, tape drives and changers from the probes,
 * cached and refreshed incrementally on udev events (udev/monitor.ts), which it republishes as
 * `disk.added` / `disk.removed` / `disk.changed` / `tape.added` / `tape.removed`. SMART through
 * smartctl's JSON; enclosure LEDs through a guarded sysfs write (the probes never write).
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { HardwareInventory, type Inventory } from '../../probes/inventory.js';
import {
  ChangerSchema,
  DiskIdSchema,
  DiskSchema,
  EnclosureSchema,
  HbaSchema,
  listOf,
  TapeDriveSchema,
  WarningSchema,
} from '../../probes/schemas.js';
import type { Disk } from '../../probes/types.js';
import { invalid, notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { defineMethod } from '../../rpc/registry.js';
import { type UdevEvent, UdevMonitor, type UdevMonitorOptions } from '../../udev/monitor.js';
import type { AgentDeps, Service, ServiceFactory, Subsystem } from '../deps.js';
import { systemInformation } from '../util/lazy-modules.js';
import { diskPresenceAlert } from './alerts.js';
import { selfTestScheduleMethods } from './methods-selftest-schedule.js';
import { hardwareMetrics, SmartSampler } from './metrics.js';
import { SelfTestScheduler, SelfTestScheduleStore, selfTestCalendar } from './selftest-schedule.js';
import { diskSmart, smartMethods } from './smart.js';

export interface HardwareOptions {
  /**
   * Run the udev monitor: `true` from the start, `false` never. Default: when probing the real
   * machine (sysroot `/`), started with the first read of the inventory, since events only
   * matter against a cached inventory (agents that never list hardware spawn nothing).
   */
  startMonitor?: boolean;
  monitor?: Partial<Omit<UdevMonitorOptions, 'onEvents' | 'onResync'>>;
  /** Poll interval of a running SMART self-test. */
  selfTestPollMs?: number;
  /** Tick of the self-test schedules' cron loop (default 30 s; 0: never, tests tick by hand). */
  scheduleTickMs?: number;
  /** Gives tests the controller (to replay udev events into the monitor). */
  onCreate?: (hw: HardwareController) => void;
}

/** The service's state: the cached inventory and the monitor feeding it. */
export class HardwareController {
  private inv: HardwareInventory | undefined;
  readonly monitor: UdevMonitor;
  /** Start the monitor on the first read of the inventory. */
  lazyMonitor = false;
  private stopped = false;

  constructor(
    private deps: AgentDeps,
    monitorOpts: HardwareOptions['monitor'] = {},
  ) {
    this.monitor = new UdevMonitor({
      runner: deps.runner,
      log: deps.log.child({ area: 'udev-monitor' }),
      ...monitorOpts,
      onEvents: (events) => this.onEvents(events),
      onResync: () => this.resync(),
    });
  }

  /** The inventory, read in full on first use. */
  get inventory(): HardwareInventory {
    if (!this.inv) {
      this.inv = new HardwareInventory(this.deps.sysroot);
      this.inv.refreshAll();
      if (this.lazyMonitor && !this.stopped) this.monitor.start();
    }
    return this.inv;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.monitor.stop();
  }

  snapshot(): Inventory {
    return this.inventory.snapshot();
  }

  /** A disk came or went: the event, and this subsystem's alert about it (hardware.disk.removed). */
  private publishDisk(topic: 'disk.added' | 'disk.removed', data: { disk: Disk; actions?: string[] }): void {
    this.deps.events.publish(topic, data);
    void diskPresenceAlert(this.deps.alerts, topic, data.disk).catch((err) =>
      this.deps.log.error({ err, disk: data.disk.id }, 'hardware: raising the disk alert failed'),
    );
  }

  /** Re-read everything (after a monitor restart) and publish what changed. */
  resync(): void {
    if (!this.inv) return;
    const before = this.inv.snapshot();
    const oldDisks = new Map(before.disks.map((d) => [d.id, JSON.stringify(d)]));
    const oldTapes = new Set([...before.tapes, ...before.changers].map((t) => t.id));
    const now = this.inv.refreshAll();
    const nowIds = new Set(now.disks.map((d) => d.id));
    for (const d of now.disks) {
      const o = oldDisks.get(d.id);
      if (o === undefined) this.publishDisk('disk.added', { disk: d });
      else if (o !== JSON.stringify(d)) this.deps.events.publish('disk.changed', { disk: d });
    }
    for (const d of before.disks) if (!nowIds.has(d.id)) this.publishDisk('disk.removed', { disk: d });
    const nowTapes = [...now.tapes, ...now.changers];
    for (const t of nowTapes) if (!oldTapes.has(t.id)) this.deps.events.publish('tape.added', { device: t });
    const nowTapeIds = new Set(nowTapes.map((t) => t.id));
    for (const t of [...before.tapes, ...before.changers]) {
      if (!nowTapeIds.has(t.id)) this.deps.events.publish('tape.removed', { device: t });
    }
  }

  /**
   * A debounced batch from the monitor: re-read the devices it names and publish the net
   * difference per disk over the whole batch (both paths of a dual-ported disk pulled at once
   * give one `disk.removed`, not a `disk.changed` first).
   */
  onEvents(events: UdevEvent[]): void {
    const inv = this.inv;
    if (!inv) return; // nothing cached yet: the first call reads the tree as it is then
    const before = new Map(inv.diskList.map((d) => [d.id, d]));
    const touched = new Set<string>();
    let topology = false;
    for (const e of events) {
      if (e.subsystem !== 'block') {
        topology = true;
        continue;
      }
      const parts = e.devpath.split('/');
      // a partition event refreshes its disk (partitions are part of the disk object)
      const name = e.props['DEVTYPE'] === 'partition' ? parts[parts.length - 2] : parts[parts.length - 1];
      if (!name) continue;
      const ch = inv.refreshBlock(name);
      for (const d of [...ch.added, ...ch.removed, ...ch.changed]) touched.add(d.id);
    }
    if (topology) {
      const ch = inv.refreshTopology();
      for (const t of ch.added) this.deps.events.publish('tape.added', { device: t });
      for (const t of ch.removed) this.deps.events.publish('tape.removed', { device: t });
      this.deps.events.publish('hardware.changed', { reason: 'topology' });
    }
    const after = new Map(inv.diskList.map((d) => [d.id, d]));
    // topology (enclosure slots, hosts) can change any disk's enclosure or HBA: compare all
    if (topology) for (const id of [...before.keys(), ...after.keys()]) touched.add(id);
    const actions = events.map((e) => e.action);
    for (const id of touched) {
      const was = before.get(id);
      const now = after.get(id);
      if (!was && now) this.publishDisk('disk.added', { disk: now, actions });
      else if (was && !now) this.publishDisk('disk.removed', { disk: was, actions });
      else if (was && now && JSON.stringify(was) !== JSON.stringify(now)) {
        this.deps.events.publish('disk.changed', { disk: now, actions });
      }
    }
  }

  /** A disk by any name disk.list shows: stable id, by-id path, WWN, device path or kernel name. */
  findDisk(ref: string): Disk {
    const disks = this.inventory.diskList;
    const d =
      disks.find((x) => x.id === ref) ??
      disks.find((x) => x.byId.includes(ref) || x.wwn === ref) ??
      disks.find((x) => x.path === ref || x.paths.some((p) => p.path === ref)) ??
      disks.find((x) => x.name === ref || x.paths.some((p) => p.name === ref));
    if (!d) {
      const e = disks[0];
      const forms = e
        ? ` (a disk is named as disk.list shows it: its id ${e.id}, kernel name ${e.name}, ${e.path}${e.wwn ? ` or WWN ${e.wwn}` : ''})`
        : ' (disk.list shows no disks)';
      throw notFound(`disk ${ref}: not found${forms}`, { disk: ref });
    }
    return d;
  }
}

const Empty = Type.Object({}, { additionalProperties: false });
const DiskRef = Type.Object({ disk: DiskIdSchema }, { additionalProperties: false });

const NetworkSchema = Type.Object({
  name: Type.String(),
  mac: Type.Optional(Type.String()),
  ipv4: Type.Array(Type.String()),
  ipv6: Type.Array(Type.String()),
  up: Type.Boolean(),
  speed: Type.Optional(Type.Number({ description: 'Mbit/s' })),
  mtu: Type.Optional(Type.Number()),
  type: Type.Optional(Type.String()),
  virtual: Type.Boolean(),
  internal: Type.Boolean(),
});

function locatePlan(file: string, from: boolean | undefined, to: boolean) {
  const v = (b: boolean | undefined) => (b ? '1' : '0');
  return `--- ${file}\n+++ ${file}\n@@ -1 +1 @@\n-${v(from)}\n+${v(to)}\n`;
}

export function createHardwareService(options: HardwareOptions = {}): ServiceFactory {
  return (deps): Service => {
    const hw = new HardwareController(deps, options.monitor);
    options.onCreate?.(hw);
    const pollMs = options.selfTestPollMs ?? 30_000;
    deps.capabilities.declare(
      { name: 'smartctl', bins: ['smartctl'], versionArgs: ['--version'], versionFrom: /smartctl (\S+)/ },
      { name: 'udevadm', bins: ['udevadm'], versionArgs: ['--version'], versionFrom: /(\d+)/ },
      { name: 'lsblk', bins: ['lsblk'], versionArgs: ['--version'], versionFrom: /util-linux (\S+)/ },
    );
    const selfTests = {
      deps,
      store: new SelfTestScheduleStore(deps.store.db('config')),
      findDisk: (ref: string) => hw.findDisk(ref),
      pollMs,
    };
    const selfTestScheduler = new SelfTestScheduler(selfTests);
    deps.calendar.contribute(selfTestCalendar(selfTests.store));
    const sampling = new AbortController();
    const smart = new SmartSampler((id) => diskSmart(deps, hw, id, sampling.signal), deps.clock.now);
    deps.metrics.contribute(
      ...hardwareMetrics(async () => {
        const disks = hw.snapshot().disks;
        smart.refresh(disks.map((d) => d.id));
        return disks.map((d) => ({ name: d.name, ...smart.get(d.id) }));
      }),
    );
    return {
      name: 'hardware',
      methods: [
        defineMethod({
          name: 'disk.list',
          summary: 'List disks',
          description:
            'Disks from sysfs and the udev database, with partitions, paths, HBA and enclosure slot; cached, refreshed on udev events.',
          params: Empty,
          result: listResult(DiskSchema, {}, 'disks in kernel order'),
          role: 'auditor',
          mutating: false,
          handler: async () => listed(hw.snapshot().disks),
        }),
        defineMethod({
          name: 'disk.get',
          summary: 'One disk, by stable id, by-id path, WWN or device path.',
          description: 'A disk by its stable id, a /dev/disk/by-id path, its WWN or a device path.',
          params: DiskRef,
          result: DiskSchema,
          role: 'auditor',
          mutating: false,
          handler: async (p) => hw.findDisk(p.disk),
        }),
        ...smartMethods(deps, hw, pollMs),
        ...selfTestScheduleMethods(deps, selfTests),
        defineMethod({
          name: 'hba.list',
          summary: 'List host bus adapters',
          description:
            'SCSI hosts and NVMe controllers by PCI function, with driver, ids, SAS phys and ports.',
          params: Empty,
          result: listResult(HbaSchema, {}, 'HBAs'),
          role: 'auditor',
          mutating: false,
          handler: async () => listed(hw.snapshot().hbas),
        }),
        defineMethod({
          name: 'enclosure.list',
          summary: 'List enclosures',
          description: 'SES enclosures with their slots, the disk in each, and fault/locate state.',
          params: Empty,
          result: listResult(EnclosureSchema, {}, 'enclosures'),
          role: 'auditor',
          mutating: false,
          handler: async () => {
            const list = hw.snapshot().enclosures;
            await enclosureAlerts(deps, list);
            return listed(list);
          },
        }),
        defineMethod({
          name: 'enclosure.locate',
          summary: "Switch a slot's locate LED",
          description:
            "Writes the slot's sysfs `locate` attribute (ses driver). Nothing is written when the LED is already as asked.",
          params: Type.Object(
            {
              enclosure: Type.String({ minLength: 1, maxLength: 200, description: 'enclosure id' }),
              slot: Type.Union(
                [Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 100 })],
                {
                  description: 'slot number or component name',
                },
              ),
              on: Type.Boolean({ description: 'LED on (true) or off' }),
            },
            { additionalProperties: false },
          ),
          result: Type.Object({
            enclosure: Type.String(),
            slot: Type.String({ description: 'component name' }),
            locate: Type.Boolean(),
            changed: Type.Boolean({ description: 'false when the LED already was as asked' }),
          }),
          role: 'operator',
          mutating: true,
          handler: async (p, ctx) => {
            const inv = hw.snapshot();
            const enc = inv.enclosures.find((e) => e.id === p.enclosure || e.name === p.enclosure);
            if (!enc) throw notFound(`enclosure ${p.enclosure}: not found`, { enclosure: p.enclosure });
            const slot = enc.slots.find((s) => s.slot === p.slot || s.name === String(p.slot));
            if (!slot)
              throw notFound(`enclosure ${enc.id}: no slot ${p.slot}`, { enclosure: enc.id, slot: p.slot });
            if (slot.locate === undefined)
              throw invalid(`enclosure ${enc.id} slot ${slot.name}: no locate LED`);
            const file = guardedLocatePath(deps.sysroot, enc.name, slot.name);
            const current = readFileSync(file, 'latin1').trim() === '1';
            const result = { enclosure: enc.id, slot: slot.name, locate: p.on, changed: current !== p.on };
            if (ctx.dryRun) {
              return {
                dryRun: true as const,
                commands: [],
                files: current === p.on ? [] : [{ path: file, diff: locatePlan(file, current, p.on) }],
              };
            }
            if (current !== p.on) {
              writeFileSync(file, p.on ? '1' : '0');
              ctx.log.info(
                { enclosure: enc.id, slot: slot.name, locate: p.on },
                'enclosure: locate LED switched',
              );
              hw.inventory.refreshTopology();
              deps.events.publish('enclosure.changed', { enclosure: enc.id, slot: slot.name, locate: p.on });
            }
            return result;
          },
        }),
        defineMethod({
          name: 'tape.drives',
          summary: 'List tape drives',
          description: 'SCSI tape drives (type 1) with st/nst/sg nodes, keyed by WWN or serial.',
          params: Empty,
          result: listOf(TapeDriveSchema, 'tape drives'),
          role: 'auditor',
          mutating: false,
          handler: async () => hw.snapshot().tapes,
        }),
        defineMethod({
          name: 'tape.changers',
          summary: 'List medium changers',
          description: 'SCSI medium changers (type 8) with sch/sg nodes, keyed by WWN or serial.',
          params: Empty,
          result: listOf(ChangerSchema, 'changers'),
          role: 'auditor',
          mutating: false,
          handler: async () => hw.snapshot().changers,
        }),
        defineMethod({
          name: 'hardware.warnings',
          summary: 'Why the inventory is incomplete',
          description:
            'Warnings of the last probe: unreadable attributes, missing udev data, dangling links, devices skipped.',
          params: Empty,
          result: listOf(WarningSchema, 'warnings'),
          role: 'auditor',
          mutating: false,
          handler: async () => hw.snapshot().warnings,
        }),
        defineMethod({
          name: 'network.list',
          summary: 'List network interfaces',
          description: 'Network interfaces with addresses, link state and speed (systeminformation).',
          params: Empty,
          result: listResult(NetworkSchema, {}, 'interfaces'),
          role: 'auditor',
          mutating: false,
          handler: async () => {
            const si = await systemInformation(); // loaded on first use: ~10 MB
            const raw = await si.networkInterfaces();
            const list = Array.isArray(raw) ? raw : [raw];
            const items = list.map((n) => ({
              name: n.iface,
              mac: n.mac || undefined,
              ipv4: n.ip4 ? [n.ip4] : [],
              ipv6: n.ip6 ? [n.ip6] : [],
              up: n.operstate === 'up',
              speed: typeof n.speed === 'number' ? n.speed : undefined,
              mtu: typeof n.mtu === 'number' ? n.mtu : undefined,
              type: n.type || undefined,
              virtual: !!n.virtual,
              internal: !!n.internal,
            }));
            return listed(items);
          },
        }),
      ],
      start() {
        selfTestScheduler.start(options.scheduleTickMs ?? 30_000);
        if (options.startMonitor === true) hw.monitor.start();
        else if (options.startMonitor === undefined) hw.lazyMonitor = path.resolve(deps.sysroot) === '/';
      },
      async stop() {
        sampling.abort();
        await selfTestScheduler.stop();
        await hw.stop();
      },
    };
  };
}

/**
 * The locate attribute of one slot, asserted to be inside the enclosure's own sysfs directory
 * (STYLE.md convention 13): names come from the inventory, and the resolved path must still be
 * `<enclosure dir>/<slot>/locate`, so no name can lead a write elsewhere.
 */
export function guardedLocatePath(sysroot: string, encName: string, slotName: string): string {
  if (
    encName.includes('/') ||
    slotName.includes('/') ||
    encName.startsWith('.') ||
    slotName.startsWith('.')
  ) {
    throw invalid('enclosure: bad component name');
  }
  const classDir = path.join(sysroot, 'sys/class/enclosure', encName);
  const encDir = realpathSync(classDir);
  const file = realpathSync(path.join(classDir, slotName, 'locate'));
  if (
    file !== path.join(encDir, slotName, 'locate') ||
    !encDir.startsWith(realpathSync(path.join(sysroot, 'sys')))
  ) {
    throw invalid(`enclosure ${encName}: locate attribute resolves outside the enclosure (${file})`);
  }
  return file;
}

export const hardwareService: ServiceFactory = createHardwareService();

export const hardwareSubsystem: Subsystem = {
  name: 'hardware',
  service: hardwareService,
  alertSources: ['hardware'],
};

/**
 * SES slot faults as alerts: a slot whose fault indicator is on or whose status is Critical,
 * Unrecoverable or Noncritical raises `hardware.enclosure:<enclosure>:<slot>`; OK clears it.
 * Read when the enclosures are listed (the Disks page and the metrics do).
 */
async function enclosureAlerts(
  deps: AgentDeps,
  list: {
    id: string;
    slots: { name: string; slot?: number; status?: string; fault?: boolean; disk?: { name: string } }[];
  }[],
): Promise<void> {
  for (const e of list)
    for (const sl of e.slots) {
      const key = `hardware.enclosure:${e.id}:${sl.slot ?? sl.name}`;
      const st = (sl.status ?? '').toLowerCase();
      const bad = sl.fault === true || st === 'critical' || st === 'unrecoverable' || st === 'noncritical';
      if (!bad) {
        await deps.alerts.clear(key);
        continue;
      }
      await deps.alerts.raise({
        key,
        level: st === 'critical' || st === 'unrecoverable' ? 'critical' : 'warning',
        source: 'hardware',
        title: `enclosure ${e.id} slot ${sl.slot ?? sl.name}: ${sl.status ?? 'fault'}${sl.fault ? ' (fault LED on)' : ''}`,
        detail: `${sl.disk ? `The disk ${sl.disk.name} in this slot` : 'This slot'} is reported faulty by the enclosure: check the disk (disk.smart) and replace it if it fails; enclosure.locate lights the slot.`,
        data: { enclosure: e.id, slot: sl.slot ?? sl.name },
      });
    }
}
