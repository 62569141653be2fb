/**
 * Tape benchmarks, each against a baseline measured in the same run:
 * - parsing `mtx status` of a 1,840-slot library with 255 mailslots and 16 drives (goal ≤ 5 ms
 *   median), next to the floor of reading it at all (splitting the text into lines);
 * - a changer status through the agent (changer.status over the in-process RPC core: schema
 *   check, lock, mtx, parser, view) against running `mtx status` directly, ratio goal ≤ 1.1.
 *   This needs a changer the real mtx can reach: the emulated library of test/tape-emu (tgtd's
 *   changer over iSCSI on loopback with the preload library). Set CALYPSO_BENCH_CHANGER to its
 *   device and CALYPSO_BENCH_TOOLENV to the JSON environment the tools need to measure a real
 *   library; without them the bench starts the emulated one itself.
 */
import { createRunner } from '../agent/runner.js';
import { tapeConfig } from '../agent/tape/config.js';
import { parseMtxStatus } from '../agent/tape/parse-mtx-status.js';
import { createTapeService } from '../agent/tape/service.js';
import { startTapeLab } from '../sandbox/tape.js';
import { startTestAgent } from '../test/helpers/agent.js';
import { median } from './stats.js';

const ms = (x: number) => `${x.toFixed(3)} ms`;

/** An `mtx status` text in mtx's layout: `drives` drives, `slots` storage slots, then mailslots. */
export function bigStatus(drives: number, slots: number, mailslots: number): string {
  const out = [
    `  Storage Changer /dev/sg9:${drives} Drives, ${slots + mailslots} Slots ( ${mailslots} Import/Export )`,
  ];
  for (let d = 0; d < drives; d++)
    out.push(
      d % 2
        ? `Data Transfer Element ${d}:Empty`
        : `Data Transfer Element ${d}:Full (Storage Element ${d + 1} Loaded):VolumeTag = D${String(d).padStart(5, '0')}L8                        `,
    );
  for (let s = 1; s <= slots + mailslots; s++) {
    const ie = s > slots ? ' IMPORT/EXPORT' : '';
    out.push(
      s % 7 === 0
        ? `      Storage Element ${s}${ie}:Empty`
        : `      Storage Element ${s}${ie}:Full :VolumeTag=${s % 97 === 0 ? 'CLN' : 'A'}${String(s).padStart(5, '0')}L8`,
    );
  }
  return `${out.join('\n')}\n`;
}

async function viaAgent(device: string, env: Record<string, string>) {
  const runner = createRunner();
  const direct: number[] = [];
  const agent: number[] = [];
  const t = await startTestAgent({
    services: [{ name: 'tape', service: createTapeService(), config: tapeConfig }],
    config: { tape: { toolEnv: env, changers: [{ id: 'bench', device, drives: [] }] } },
  });
  try {
    await t.call('changer.status', { changer: 'bench' }); // warm: capabilities, compiled schemas
    await runner.run(['mtx', '-f', device, 'status'], { env });
    for (let i = 0; i < 15; i++) {
      let s = performance.now();
      await runner.run(['mtx', '-f', device, 'status'], { env });
      direct.push(performance.now() - s);
      s = performance.now();
      await t.call('changer.status', { changer: 'bench' });
      agent.push(performance.now() - s);
    }
  } finally {
    await t.stop();
  }
  return { direct: median(direct), agent: median(agent) };
}

export async function benchTape(): Promise<Record<string, unknown>> {
  const text = bigStatus(16, 1840, 255);
  const parse: number[] = [];
  const floor: number[] = [];
  let n = 0;
  for (let i = 0; i < 30; i++) parseMtxStatus(text); // JIT warm-up
  for (let i = 0; i < 101; i++) {
    let t = performance.now();
    n = parseMtxStatus(text).slots.length;
    parse.push(performance.now() - t);
    t = performance.now();
    text.split('\n');
    floor.push(performance.now() - t);
  }
  const out: Record<string, unknown> = {
    'mtx status, 1,840 slots + 255 mailslots + 16 drives': `${(text.length / 1024).toFixed(0)} KiB, ${n} elements`,
    'parse median (goal ≤ 5 ms)': ms(median(parse)),
    'baseline: split into lines': ms(median(floor)),
    'parse / split ratio': (median(parse) / median(floor)).toFixed(1),
  };
  // a changer given from outside (a real library), else the emulated one started here
  let device = process.env.CALYPSO_BENCH_CHANGER;
  let env = JSON.parse(process.env.CALYPSO_BENCH_TOOLENV ?? '{}') as Record<string, string>;
  const lab = device ? undefined : await startTapeLab({ slots: 40, mailslots: 2, tapes: 30 });
  if (lab) {
    device = lab.changerDevice;
    env = lab.env;
    out.library = `emulated (tgtd changer over iSCSI on loopback, LD_PRELOAD): ${lab.slots} slots, ${lab.mailslots} mailslots, ${lab.barcodes.length} cartridges, 2 drives`;
  }
  let r: { direct: number; agent: number };
  try {
    r = await viaAgent(device!, env);
  } finally {
    await lab?.stop();
  }
  out['mtx status directly (median)'] = ms(r.direct);
  out['changer.status through the agent (median)'] = ms(r.agent);
  out['agent / direct (goal ≤ 1.1)'] = (r.agent / r.direct).toFixed(3);
  return out;
}
