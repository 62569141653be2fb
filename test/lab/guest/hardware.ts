/**
 * In the lab guest: the hardware probes on a real kernel's sysfs with udev running. scsi_debug makes two disks
 * (add_host=2 per_host_store=1: two hosts, distinct stores); the agent's disk.list and `calypsoctl probe disks
 * --sysroot /` agree with lsblk and lsscsi on every SCSI disk.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestAgent, type TestAgent } from '../../helpers/agent.js';
import { entry } from '../../helpers/paths.js';
import { assertInGuest, ok, sh } from './sh.js';

interface Row {
  name: string;
  size: number;
  ro: boolean;
  rm: boolean;
  model: string | null;
  vendor: string | null;
  hctl: string | null;
  tran: string | null;
}
interface DiskView {
  name: string;
  size: number;
  model?: string;
  vendor?: string;
  readOnly: boolean;
  removable: boolean;
  paths: { name: string; hctl?: string }[];
}

let t: TestAgent;
const debugDisks = () =>
  readdirSync('/sys/block').filter((b) => {
    try {
      return readFileSync(`/sys/block/${b}/device/model`, 'utf8').trim() === 'scsi_debug';
    } catch {
      return false;
    }
  });

before(async () => {
  assertInGuest();
  await ok(['modprobe', 'scsi_debug', 'add_host=2', 'per_host_store=1', 'dev_size_mb=64']);
  for (let i = 0; i < 150 && debugDisks().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
  await sh(['udevadm', 'settle', '-t', '20']);
  t = await startTestAgent({});
});
after(async () => {
  await t?.stop();
  await sh(['modprobe', '-r', 'scsi_debug']);
});

describe('hardware probes on the real sysfs', () => {
  it('two scsi_debug disks appear', () => {
    assert.equal(debugDisks().length, 2);
  });

  it('disk.list and `calypsoctl probe disks --sysroot /` agree with lsblk and lsscsi', async () => {
    const lsblk = (
      JSON.parse(await ok(['lsblk', '-J', '-b', '-d', '-o', 'NAME,SIZE,RO,RM,MODEL,VENDOR,HCTL,TRAN'])) as {
        blockdevices: Row[];
      }
    ).blockdevices.filter((r) => r.model?.trim() === 'scsi_debug');
    assert.equal(lsblk.length, 2, 'lsblk lists both');
    const lsscsi = await ok(['lsscsi']);
    const agent = (await t.call<{ items: DiskView[] }>('disk.list')).items;
    const cli = JSON.parse(
      await ok([process.execPath, ...entry('cli/main'), 'probe', 'disks', '--sysroot', '/', '--json']),
    ) as DiskView[] | { disks: DiskView[] };
    const cliDisks = Array.isArray(cli) ? cli : cli.disks;
    for (const r of lsblk) {
      for (const [who, list] of [
        ['disk.list', agent],
        ['calypsoctl probe', cliDisks],
      ] as const) {
        const d = list.find((x) => x.paths.some((p) => p.name === r.name));
        assert.ok(d, `${who} has ${r.name}`);
        assert.equal(d.size, r.size, `${who} ${r.name} size`);
        assert.equal(d.model, r.model?.trim(), `${who} ${r.name} model`);
        assert.equal(d.vendor, r.vendor?.trim(), `${who} ${r.name} vendor`);
        assert.equal(d.readOnly, r.ro, `${who} ${r.name} ro`);
        assert.equal(d.removable, r.rm, `${who} ${r.name} rm`);
        const p = d.paths.find((x) => x.name === r.name)!;
        assert.equal(p.hctl, r.hctl, `${who} ${r.name} hctl`);
        // lsscsi's line for the same H:C:T:L names the same device node
        assert.match(
          lsscsi,
          new RegExp(`\\[${r.hctl}\\]\\s+disk\\s+Linux\\s+scsi_debug.*/dev/${r.name}\\s*$`, 'm'),
        );
      }
    }
  });
});
