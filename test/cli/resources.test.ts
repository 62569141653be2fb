/**
 * calypsoctl for people who use `zfs` and `zpool`: resource commands made from the running
 * agent's methods (`calypsoctl pool list`, `calypsoctl dataset create tank/a --compression lz4`),
 * tables with IEC sizes at a terminal (a real pty), JSON for scripts, dry runs as shell lines,
 * hints for unknown commands, and a socket the user may not open said in words.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as pty from 'node-pty';
import { createRunner } from '../../agent/runner.js';
import { human, iec } from '../../cli/human.js';
import { paramsOf, positionalOf, splitOperands } from '../../cli/resources.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { entry } from '../helpers/paths.js';
import { destroyPoolsChecked, poolName, useZfsFuse, vdevFiles } from '../zfs/helpers.js';

describe('resource commands, pure parts', () => {
  const create = {
    name: 'dataset.create',
    params: [
      { name: 'name', required: true, schema: { type: 'string' } },
      { name: 'properties', required: false, schema: { type: 'object' } },
      { name: 'dryRun', required: false, schema: { type: 'boolean' } },
    ],
    'x-mutating': true,
  };
  it('the first required text param is the positional; unknown options become properties', () => {
    assert.equal(positionalOf(create)?.name, 'name');
    const { words, props } = splitOperands(['--compression', 'gzip', 'tank/a', '--atime=off']);
    assert.deepEqual(words, ['tank/a']);
    assert.deepEqual(paramsOf(create, words[0], { dryRun: true }, props), {
      name: 'tank/a',
      dryRun: true,
      properties: { compression: 'gzip', atime: 'off' },
    });
  });
  it('people read sizes in IEC units, dry runs as shell lines', () => {
    assert.equal(iec(1536), '1.50 KiB');
    assert.equal(iec(128 * 1024 ** 3), '128 GiB');
    const t = human([{ name: 'tank', size: 1073741824, health: 'ONLINE' }]);
    assert.match(t, /^NAME\s+SIZE\s+HEALTH\ntank\s+1.00 GiB\s+ONLINE\n$/);
    const d = human({ dryRun: true, commands: [['zfs', 'create', '-o', 'comment=a b', '--', 'tank/a']] });
    assert.match(d, /^\$ zfs create -o 'comment=a b' -- tank\/a$/m);
  });
});

describe('resource commands against a real agent on zfs-fuse', () => {
  let agent: AgentProcess;
  let zfs: { release(): Promise<void> };
  const pool = poolName('cli');
  let dir = '';
  before(async () => {
    zfs = await useZfsFuse();
    agent = await startAgentProcess();
    dir = path.join(agent.prefix, 'vdevs');
    const [v] = vdevFiles(dir, ['a']);
    const r = await createRunner().run(['zpool', 'create', '-f', '--', pool, v!], { timeoutMs: 60_000 });
    assert.equal(r.code, 0);
  });
  after(async () => {
    await agent?.stop();
    await destroyPoolsChecked([pool]).catch(() => {});
    await zfs?.release();
    agent?.cleanup();
  });

  const ctl = (args: string[], uid?: number) =>
    spawnSync(process.execPath, [...entry('cli/main'), '--socket', agent.socket, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });

  /** calypsoctl with its stdout on a terminal, as a person runs it. */
  const atTerminal = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const [exe, ...rest] = [process.execPath, ...entry('cli/main'), '--socket', agent.socket, ...args];
      const p = pty.spawn(exe!, rest, { cols: 200, rows: 50, env: process.env as Record<string, string> });
      let out = '';
      const timer = setTimeout(() => {
        p.kill();
        reject(new Error(`calypsoctl ${args.join(' ')} hung: ${out}`));
      }, 30_000);
      p.onData((d) => {
        out += d;
      });
      p.onExit(() => {
        clearTimeout(timer);
        resolve(out.replace(/\r/g, ''));
      });
    });

  it('`calypsoctl pool list` prints a table with IEC sizes at a terminal, JSON for scripts', async () => {
    const text = await atTerminal(['pool', 'list']);
    assert.match(text, /^NAME\s+/m, text);
    assert.match(text, new RegExp(`^${pool}\\s.*\\d (MiB|GiB)`, 'm'), text);
    const r = ctl(['pool', 'list']);
    assert.equal(r.status, 0, r.stderr);
    const pools = JSON.parse(r.stdout) as { name: string }[] | { items: { name: string }[] };
    const list = Array.isArray(pools) ? pools : pools.items;
    assert.ok(list.some((p) => p.name === pool));
  });

  it('`dataset create POOL/a --compression gzip --dry-run` prints the command and changes nothing; the real run creates it', async () => {
    const plan = await atTerminal(['dataset', 'create', `${pool}/a`, '--compression', 'gzip', '--dry-run']);
    assert.match(plan, /dry run/);
    assert.match(plan, new RegExp(`^\\$ zfs create .*compression=gzip.* ${pool}/a`, 'm'), plan);
    const runner = createRunner();
    const before = await runner.run(['zfs', 'list', '-H', '-o', 'name', '-r', '--', pool], {
      timeoutMs: 30_000,
    });
    assert.ok(!before.stdout.includes(`${pool}/a`));
    const r = ctl(['dataset', 'create', `${pool}/a`, '--compression', 'gzip']);
    assert.equal(r.status, 0, r.stderr);
    const got = await runner.run(['zfs', 'get', '-H', '-o', 'value', 'compression', '--', `${pool}/a`], {
      timeoutMs: 30_000,
    });
    assert.equal(got.stdout.trim(), 'gzip');
  });

  it('a missing required param, an unknown command and a filter for methods', () => {
    const miss = ctl(['dataset', 'create']);
    assert.equal(miss.status, 1);
    assert.match(miss.stderr, /needs NAME/);
    const typo = ctl(['poool', 'list']);
    assert.equal(typo.status, 1);
    assert.match(typo.stderr, /unknown command 'poool'/);
    assert.match(typo.stderr, /"suggestion":"pool"/);
    const m = ctl(['--json', 'methods', 'pool.']);
    assert.equal(m.status, 0, m.stderr);
    const names = (JSON.parse(m.stdout) as { method: string }[]).map((x) => x.method);
    assert.ok(names.length > 3 && names.every((n) => n.startsWith('pool.')), names.join(','));
  });

  it('a socket the user may not open says so, and what to do', () => {
    chmodSync(agent.socket, 0o660); // root:root, so uid nobody has no access
    const r = ctl(['ping'], 65534);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /permission denied: add yourself to group calypso/);
  });
});
