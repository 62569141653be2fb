/** `calypsoctl probe KIND --sysroot DIR --json` prints what the probes (and the service) return. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { runProbe } from '../../cli/probe.js';
import { probeAll } from '../../probes/index.js';
import { entry } from '../helpers/paths.js';
import { fixture, wire } from './fixtures.js';

test('runProbe --json: one kind with the warnings, or the whole inventory', async () => {
  const dir = fixture('sas-expander-enclosure');
  const inv = wire(probeAll(dir));
  assert.deepEqual(JSON.parse(await runProbe('disks', dir, true)), {
    disks: inv.disks,
    warnings: inv.warnings,
  });
  assert.deepEqual(JSON.parse(await runProbe('hbas', dir, true)), { hbas: inv.hbas, warnings: inv.warnings });
  assert.deepEqual(JSON.parse(await runProbe('all', dir, true)), inv);
  const tapes = wire(probeAll(fixture('tape-sas')));
  assert.deepEqual(
    JSON.parse(await runProbe('changers', fixture('tape-sas'), true)).changers,
    tapes.changers,
  );
  await assert.rejects(runProbe('printers', dir, true), /unknown kind/);
});

test('runProbe for people: a table per kind, warnings last', async () => {
  const text = await runProbe('all', fixture('tape-fc-ibm'), false);
  assert.match(text, /^HCTL +VENDOR +MODEL/m);
  assert.match(text, /2:0:0:0 +IBM +ULT3580-TD2 +H991 +6022976126 +\/dev\/nst0 +\/dev\/sg6 +scsi-6022976126/);
  assert.match(text, /^warning: 2:0:1:0: no serial or WWN/m);
});

test('calypsoctl probe runs offline (no agent) through the real CLI entry point', () => {
  const [cmd, ...args] = [process.execPath, ...entry('cli/main')];
  const out = execFileSync(cmd, [...args, 'probe', 'tapes', '--sysroot', fixture('tape-sas'), '--json'], {
    encoding: 'utf8',
    env: { ...process.env, CALYPSO_SOCKET: '/nonexistent/agent.sock' },
  });
  const body = JSON.parse(out) as { tapes: { id: string; nst: string }[] };
  assert.deepEqual(
    body.tapes.map((t) => [t.id, t.nst]),
    [['wwn-0x50014380123abcde', '/dev/nst0']],
  );
});
