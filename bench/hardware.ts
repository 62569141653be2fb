/**
 * Hardware benchmarks (issue: hardware inventory), each against its baseline in the same run:
 * - a full probe of a synthetic 1,024-disk tree (SAS JBOD, two partitions per disk, udev
 *   records; goal ≤ 150 ms median) next to `lsblk --sysroot DIR -J -O` on the same tree,
 *   with the ratio (goal ≤ 2), and lsblk with only the columns disk.list is compared on
 *   (NAME,SIZE,RO,RM,MODEL,SERIAL);
 * - one incremental refresh after a single udev event (goal ≤ 5 ms median).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createRunner } from '../agent/runner.js';
import { HardwareInventory, probeAll } from '../probes/index.js';
import { loadSysread } from '../probes/native.js';
import { syntheticTree } from '../probes/synthetic.js';
import { median } from './stats.js';

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** How the probe's batches were read: io_uring, threads making system calls, or Node's fs alone. */
function readerMode(): string {
  const a = loadSysread();
  if (!a) return 'node fs (native batch reader not built)';
  return a.readerMode() === 'io_uring'
    ? 'native batch reader, io_uring'
    : 'native batch reader, system calls';
}

export async function benchHardware(): Promise<Record<string, unknown>> {
  const runner = createRunner({ log: pino({ level: 'silent' }) });
  const disks = 1024;
  const t0 = performance.now();
  const tree = syntheticTree({ disks });
  const genMs = performance.now() - t0;
  // the tree was just written: flush it, so that writeback does not run during the measurements
  // (a real /sys has none)
  spawnSync('sync');
  try {
    const probe: number[] = [];
    const lsblkAll: number[] = [];
    const lsblkBasic: number[] = [];
    let found = 0;
    probeAll(tree.root); // warm the dentry cache for both sides alike
    // The probes back to back, then lsblk: interleaved, each lsblk run (seconds of work over the
    // same tree) left the next probe with cold CPU caches, which measured lsblk, not the probe.
    for (let i = 0; i < 11; i++) {
      const t = performance.now();
      found = probeAll(tree.root).disks.length;
      probe.push(performance.now() - t);
    }
    for (let i = 0; i < 7; i++) {
      let t: number;
      if (i < 3) {
        t = performance.now();
        await runner.run(['lsblk', '--sysroot', tree.root, '-J', '-O'], {
          timeoutMs: 300_000,
          maxOutput: 512 * 1024 * 1024,
        });
        lsblkAll.push(performance.now() - t);
      }
      t = performance.now();
      await runner.run(['lsblk', '--sysroot', tree.root, '-J', '-b', '-o', 'NAME,SIZE,RO,RM,MODEL,SERIAL'], {
        timeoutMs: 300_000,
      });
      lsblkBasic.push(performance.now() - t);
    }
    if (found !== disks) throw new Error(`probe found ${found} of ${disks} disks`);

    // One udev `change` event on one disk: re-read it, re-assemble, diff.
    const inv = new HardwareInventory(tree.root);
    inv.refreshAll();
    const name = tree.names[disks >> 1]!;
    const sizeFile = path.join(tree.root, 'sys/block', name, 'size');
    const incr: number[] = [];
    for (let i = 0; i < 41; i++) {
      writeFileSync(sizeFile, `${31251759104 - ((i + 1) % 2)}\n`);
      const t = performance.now();
      const ch = inv.refreshBlock(name);
      incr.push(performance.now() - t);
      if (ch.changed.length !== 1) throw new Error('incremental refresh missed the change');
    }
    const p = median(probe);
    const la = median(lsblkAll);
    return {
      'synthetic tree': `${disks} disks, 2 partitions each, written in ${ms(genMs)}`,
      'full probe (median of 11)': `${ms(p)} (goal ≤ 150 ms)`,
      'probe reads ahead with': readerMode(),
      'lsblk --sysroot -J -O (median of 3)': ms(la),
      'probe / lsblk -O': `${(p / la).toFixed(2)} (goal ≤ 2)`,
      'lsblk -o NAME,SIZE,RO,RM,MODEL,SERIAL (median of 7)': ms(median(lsblkBasic)),
      'probe / lsblk basic columns': (p / median(lsblkBasic)).toFixed(2),
      'incremental refresh, one event (median of 41)': `${ms(median(incr))} (goal ≤ 5 ms)`,
    };
  } finally {
    tree.remove();
  }
}
