/**
 * Shares benchmarks (issue #26) on a real smbd (test/shares/smb-lab.ts: loopback, free port, the
 * agent's generated smb.conf under a temporary prefix), each against a baseline in the same run:
 * - `shares.list` with 1,000 shares over the agent's Unix socket, results not re-checked against
 *   their schemas (as the production agent answers; tests check them) (goal ≤ 50 ms, the issue's
 *   absolute figure) against reading the desired state's LMDB value raw (the ratio says what the
 *   RPC, the JSON and the 1,000 directory stats cost);
 * - applying 1,000 shares through the pipeline (`shares.config.restore` of a 1,000-share version:
 *   the check, render, write, history, `testparm -s` and `smbcontrol reload-config`) against writing
 *   the same smb.conf and running `testparm -s` and the reload by hand (ratio, goal ≤ 1.2);
 * - SMB read throughput through smbd on loopback (`smbclient -c 'get big /dev/null'`) against
 *   `cat big > /dev/null`, both from the page cache (reported).
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { unpackState } from '../agent/config-set/versions.js';
import { SHARE_DEFAULTS, type Share, type SharesState } from '../agent/shares/model.js';
import { sharesSubsystem } from '../agent/shares/service.js';
import { startTestAgent } from '../test/helpers/agent.js';
import { freePort, nssFiles, startSmbd } from '../test/shares/smb-lab.js';
import { median, timed } from './stats.js';

const run = promisify(execFile);
const SHARES = 1000;
const BIG_MB = 256;
/** rounds of the apply comparison: the first ones warm both sides, the others are measured */
const WARM = 2;
const ROUNDS = 16;

const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');

/** The wall time of a child process's run to its exit (its output thrown away). */
function child(argv: string[]): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    let err = '';
    c.stderr.on('data', (d) => {
      err += d;
    });
    c.once('error', reject);
    c.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - t) : reject(new Error(`${argv[0]} exit ${code}: ${err}`)),
    );
  });
}

/** CPU time (ms) used so far by the processes of one process group (smbd and its children). */
function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // after the command's closing parenthesis: state, ppid, pgrp, … utime (14th), stime (15th)
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return (ticks * 1000) / 100; // USER_HZ
}

/** Until the group used no CPU for 50 ms (at most 2 s): smbd done re-reading its file. */
async function settled(pgid: number): Promise<void> {
  const end = performance.now() + 2000;
  let last = groupCpuMs(pgid);
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    const now = groupCpuMs(pgid);
    if (now === last) return;
    last = now;
  }
}

export async function benchShares(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const acc = nssFiles();
  const port = await freePort();
  // as the production agent answers: results not re-checked against their schemas, over its Unix socket
  const t = await startTestAgent({
    checkResults: false,
    listen: true,
    services: [sharesSubsystem],
    config: {
      shares: {
        smbPort: port,
        smbInterfaces: ['127.0.0.1'],
        accounts: { backend: 'nss-wrapper', passwd: acc.passwd, group: acc.group },
      },
    },
  });
  let smbd: Awaited<ReturnType<typeof startSmbd>> | undefined;
  try {
    chmodSync(t.prefix, 0o755);
    await t.call('shares.apply');
    const conf = (await t.call<{ smbConf: string }>('shares.status')).smbConf;
    smbd = await startSmbd(conf, port, acc);
    const root = path.join(t.prefix, 'srv/calypso/shares');
    mkdirSync(root, { recursive: true });
    const variant = (v: string): SharesState => ({
      shares: Array.from({ length: SHARES }, (_, i): Share => {
        const name = `bench${String(i).padStart(4, '0')}`;
        return {
          name,
          path: path.join(root, name),
          ...SHARE_DEFAULTS,
          description: `bench share ${v}`,
          validUsers: ['alice', 'bob'],
        };
      }),
    });
    for (const s of variant('a').shares) mkdirSync(s.path, { recursive: true });
    // two versions of 1,000 shares each; every restore below changes every section's comment
    const managed = t.deps.configSet.get('shares')!;
    const versions: number[] = [];
    for (const v of ['a', 'b']) {
      const r = await managed.apply(variant(v), { user: 'bench', summary: `bench ${v}` });
      versions.push(r.version!);
    }

    // shares.list against the raw LMDB read of the same state (its value, unpacked)
    const head = managed.head()!.version;
    const key = ['config-set', 'shares', 's', String(head).padStart(8, '0')].join('\u0000');
    const db = t.deps.configSet.o.db;
    const client = await t.client();
    const raw: number[] = [];
    const list: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = performance.now();
      const s = [...db.getRange({ start: key, end: `${key}\u0000` })].map((e) =>
        unpackState<SharesState>(e.value),
      );
      raw.push(performance.now() - t0);
      if (s[0]?.shares.length !== SHARES) throw new Error('the raw read found no 1,000 shares');
      const [tl, l] = await timed(() => client.call<{ total: number }>('shares.list'));
      if (l.total !== SHARES) throw new Error(`shares.list: ${l.total} shares`);
      list.push(tl);
    }
    out['shares.list, 1,000 shares, over the Unix socket (median ms, goal ≤ 50)'] = median(list).toFixed(1);
    out['raw LMDB read of the same state (median ms)'] = median(raw).toFixed(2);
    out['ratio shares.list / raw read'] = (median(list) / median(raw)).toFixed(0);

    // the pipeline against the same file and commands by hand, interleaved. Each run starts once
    // smbd has finished re-reading the file the run before had it reload (smbcontrol returns when
    // the message is sent, and the reload would land on whichever side runs next); the order
    // alternates; the first rounds warm both sides (JIT, page cache) and are reported apart.
    const restore = async (i: number) =>
      (await timed(() => t.call('shares.config.restore', { version: versions[i % 2]! })))[0];
    const byHand = async (i: number) => {
      const text = readFileSync(conf, 'utf8').replaceAll(/bench share [ab]/g, `bench share hand${i}`);
      const t0 = performance.now();
      writeFileSync(`${conf}.tmp`, text);
      renameSync(`${conf}.tmp`, conf);
      const tp2 = await run('testparm', ['-s', conf], { maxBuffer: 64 << 20 });
      if (/Unknown parameter|ERROR/.test(tp2.stderr)) throw new Error(tp2.stderr);
      await child(['smbcontrol', '-s', conf, 'smbd', 'reload-config']);
      return performance.now() - t0;
    };
    const pipeline: number[] = [];
    const hand: number[] = [];
    const cold: number[] = [];
    for (let i = 0; i < WARM + ROUNDS; i++) {
      const pair: number[] = [];
      for (const side of i % 2 === 0 ? [restore, byHand] : [byHand, restore]) {
        await settled(smbd.pid);
        pair.push(await side(i));
      }
      const [tp, th] = i % 2 === 0 ? pair : [pair[1]!, pair[0]!];
      if (i < WARM) cold.push(tp!, th!);
      else {
        pipeline.push(tp!);
        hand.push(th!);
      }
    }
    out['apply 1,000 shares: shares.config.restore (median ms)'] = median(pipeline).toFixed(0);
    out['by hand: write smb.conf, testparm -s, smbcontrol reload-config (median ms)'] =
      median(hand).toFixed(0);
    out['ratio pipeline / by hand (goal ≤ 1.2)'] = (median(pipeline) / median(hand)).toFixed(3);
    out['runs pipeline / by hand (ms)'] = `${ms(pipeline)} / ${ms(hand)}`;
    out[`warm-up rounds, not counted: pipeline, by hand (ms)`] = ms(cold);

    // SMB read throughput: a guest read-only share holding one big file, read twice to warm the cache
    await managed.apply({ shares: [] }, { user: 'bench', summary: 'bench: clear' });
    await t.call('shares.create', { name: 'big', guest: true, readOnly: true });
    const big = path.join(root, 'big', 'big');
    await run('dd', ['if=/dev/urandom', `of=${big}`, 'bs=1M', `count=${BIG_MB}`, 'status=none']);
    chmodSync(big, 0o644);
    const clientConf = path.join(acc.dir, 'client.conf');
    const smb = () =>
      child([
        'smbclient',
        '-s',
        clientConf,
        '-p',
        String(port),
        '//127.0.0.1/big',
        '-N',
        '-c',
        'get big /dev/null',
      ]);
    const cat = () => child(['sh', '-c', 'cat -- "$0" > /dev/null', big]);
    await cat();
    await smb();
    const smbT: number[] = [];
    const catT: number[] = [];
    for (let i = 0; i < 3; i++) {
      catT.push(await cat());
      smbT.push(await smb());
    }
    const mbps = (t: number) => (BIG_MB / (t / 1000)).toFixed(0);
    out[`SMB read, ${BIG_MB} MiB, smbclient get over loopback (median MiB/s)`] = mbps(median(smbT));
    out[`cat of the same file from the page cache (median MiB/s)`] = mbps(median(catT));
    out['ratio SMB time / cat time'] = (median(smbT) / median(catT)).toFixed(2);
  } finally {
    await smbd?.stop();
    await t.stop();
    acc.cleanup();
  }
  return out;
}
