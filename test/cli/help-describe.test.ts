/**
 * calypsoctl for people: every command says what it does, required options say so, help and
 * errors use the same terms, `describe METHOD` explains a method from rpc.discover with an
 * example that runs as printed, and an error reads in plain words at a terminal while scripts
 * still get exactly one line of JSON on stderr.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Command } from 'commander';
import * as pty from 'node-pty';
import { describeText, exampleOf, type OpenRpcDoc, typeName } from '../../cli/describe.js';
import { errorOutput, plainError } from '../../cli/errors.js';
import { buildProgram } from '../../cli/program.js';
import { closestName } from '../../rpc/params-errors.js';
import { type AgentProcess, startAgentProcess } from '../helpers/agent.js';
import { entry, tempDir } from '../helpers/paths.js';

function ctl(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...entry('cli/main'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

function walk(c: Command, out: Command[] = []): Command[] {
  out.push(c);
  for (const s of c.commands) walk(s, out);
  return out;
}

describe('help', () => {
  const program = buildProgram();
  const all = walk(program);

  it('every command, argument and option has a description', () => {
    assert.ok(all.length > 15, `${all.length} commands`);
    for (const c of all) {
      const name = `calypsoctl ${c.name()}`;
      assert.ok(c.description().length > 10, `${name} has a description`);
      for (const a of c.registeredArguments)
        assert.ok(a.description.length > 3, `${name} <${a.name()}> has a description`);
      for (const o of c.options) assert.ok(o.description.length > 3, `${name} ${o.flags} has a description`);
    }
  });

  it('required options are shown as required', () => {
    const create = all.find((c) => c.name() === 'create' && c.parent?.name() === 'token');
    assert.ok(create);
    const help = create.helpInformation();
    assert.match(help, /--role <role>\s+role of the token: admin, operator or auditor \(required\)/);
    for (const c of all)
      for (const o of c.options) if (o.mandatory) assert.match(o.description, /\(required\)$/, o.flags);
  });

  it('help and errors call the params PARAMS_JSON', () => {
    const call = all.find((c) => c.name() === 'call');
    assert.ok(call);
    assert.match(call.helpInformation(), /call \[options\] <METHOD> \[PARAMS_JSON\]/);
    const r = ctl(['--socket', '/nonexistent.sock', 'call', 'system.ping', '{not json']);
    assert.equal(r.status, 1);
    const e = JSON.parse(r.stderr) as { message: string };
    assert.match(e.message, /^PARAMS_JSON is not JSON/);
    const arr = JSON.parse(ctl(['call', 'system.ping', '[1]']).stderr) as { message: string };
    assert.match(arr.message, /^PARAMS_JSON must be a JSON object/);
  });
});

describe('describe, offline', () => {
  it('a named format with rules reads as a string; examples come from the schema', () => {
    const format = { allOf: [{ type: 'string', pattern: '^\\S*$' }, { type: 'string' }], examples: ['tank'] };
    assert.equal(typeName(format), 'string');
    assert.equal(exampleOf(format), 'tank');
    assert.deepEqual(
      exampleOf({ type: 'array', minItems: 2, items: { type: 'integer', minimum: 3 } }),
      [3, 3],
    );
    assert.equal(typeName({ anyOf: [{ type: 'string' }, { const: 'none' }] }), 'string | "none"');
  });

  it("the closest name for a typo (the agent's own suggestion function)", () => {
    assert.equal(closestName('pool.lst', ['pool.list', 'pool.get', 'dataset.list']), 'pool.list');
    assert.equal(closestName('completely.else', ['pool.list']), undefined);
  });

  it('an error is printed once: plain words for people, the JSON line for scripts', () => {
    const e = {
      code: -32601,
      message: 'Method not found',
      data: { kind: 'not_found', suggestion: 'pool.list' },
    };
    assert.equal(plainError(e), 'calypsoctl: Method not found\n  did you mean `pool.list`?\n');
    assert.equal(errorOutput(e, true), plainError(e));
    assert.equal(errorOutput(e, false), `${JSON.stringify(e)}\n`);
    // a failed tool: its own last line, which the JSON hides inside data.stderr
    const zfs = {
      code: -32006,
      message: 'zfs: internal error: failed to initialize ZFS library',
      data: {
        kind: 'failed',
        stderr:
          'connect: No such file or directory\nPlease make sure that the zfs-fuse daemon is running.\ninternal error: failed to initialize ZFS library',
      },
    };
    assert.equal(
      plainError(zfs),
      'calypsoctl: zfs: internal error: failed to initialize ZFS library\n  connect: No such file or directory\n  Please make sure that the zfs-fuse daemon is running.\n',
    );
  });
});

describe('describe and errors against an agent', () => {
  let agent: AgentProcess;
  let doc: OpenRpcDoc;
  const bin = tempDir('calypso-ctl-bin-');
  before(async () => {
    agent = await startAgentProcess();
    const c = await agent.client();
    doc = await c.call<OpenRpcDoc>('rpc.discover');
    c.close();
    // `calypsoctl` on PATH, as on an appliance, so that printed lines run as printed
    mkdirSync(bin.dir, { recursive: true });
    const shim = path.join(bin.dir, 'calypsoctl');
    writeFileSync(
      shim,
      `#!/bin/sh\nexec ${[process.execPath, ...entry('cli/main')].map((a) => `'${a}'`).join(' ')} "$@"\n`,
    );
    chmodSync(shim, 0o755);
  });
  after(async () => {
    await agent?.stop();
    agent?.cleanup();
    bin.cleanup();
  });

  it('describe pool.create: params with types, required, descriptions, role, mutating, example', () => {
    const r = ctl(['--socket', agent.socket, 'describe', 'pool.create']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^pool\.create — Create a pool/);
    assert.match(r.stdout, /role: +admin or above/);
    assert.match(r.stdout, /kind: +mutates/);
    assert.match(r.stdout, /\n {2}name +string, required, 1–64 characters\n +pool name: a letter/);
    assert.match(r.stdout, /\n {2}force +boolean, optional/);
    assert.match(r.stdout, /calypsoctl call pool\.create '\{"name":"tank","topology":/);
    const j = JSON.parse(ctl(['--socket', agent.socket, '--json', 'describe', 'pool.create']).stdout) as {
      role: string;
      mutating: boolean;
      job: boolean;
      params: { name: string; type: string; required: boolean; description: string }[];
    };
    assert.equal(j.role, 'admin');
    assert.equal(j.mutating, true);
    assert.equal(j.job, false);
    assert.deepEqual(
      j.params.find((p) => p.name === 'name'),
      {
        name: 'name',
        type: 'string',
        required: true,
        description: j.params.find((p) => p.name === 'name')!.description,
      },
    );
  });

  it('describe says when a method runs as a job, and when it only reads', () => {
    assert.match(ctl(['--socket', agent.socket, 'describe', 'system.selftest']).stdout, /runs as a job/);
    assert.match(ctl(['--socket', agent.socket, 'describe', 'pool.list']).stdout, /reads: changes nothing/);
  });

  it('every method can be described; the example line of a method without params runs as printed', () => {
    assert.ok(doc.methods.length > 50);
    for (const m of doc.methods) assert.match(describeText(m), /\nexample:\n {2}calypsoctl call /, m.name);
    const line = /\n {2}(calypsoctl call system\.ping)\n/.exec(
      ctl(['--socket', agent.socket, 'describe', 'system.ping']).stdout,
    )?.[1];
    assert.ok(line);
    const r = spawnSync('sh', ['-c', line], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin.dir}:${process.env.PATH}`, CALYPSO_SOCKET: agent.socket },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(typeof (JSON.parse(r.stdout) as { uptime: number }).uptime, 'number');
  });

  it('the named formats give the ZFS methods examples that pass their schemas', () => {
    const r = ctl(['--socket', agent.socket, 'describe', 'snapshot.create']);
    assert.match(r.stdout, /"dataset":"tank\/data","name":"before-upgrade"/);
  });

  it('describe of an unknown method: not_found with the closest name, JSON on stderr', () => {
    const r = ctl(['--socket', agent.socket, 'describe', 'pool.lst']);
    assert.equal(r.status, 1);
    const e = JSON.parse(r.stderr) as { code: number; data: { kind: string; suggestion: string } };
    assert.equal(e.code, -32601);
    assert.equal(e.data.kind, 'not_found');
    assert.equal(e.data.suggestion, 'pool.list');
  });

  it('at a terminal the error is printed once, in plain words, with the suggestion', async () => {
    const run = (args: string[]) =>
      new Promise<string>((resolve) => {
        const [cmd, ...rest] = [process.execPath, ...entry('cli/main'), '--socket', agent.socket, ...args];
        const p = pty.spawn(cmd!, rest, { cols: 200, rows: 40, env: process.env as Record<string, string> });
        let out = '';
        p.onData((d) => (out += d));
        p.onExit(() => resolve(out.replaceAll('\r', '')));
      });
    const out = await run(['describe', 'pool.lst']);
    assert.doesNotMatch(out, /"code"/);
    assert.match(out, /^calypsoctl: Method not found: pool\.lst\n {2}did you mean `pool\.list`\?\n$/);
    const call = await run(['call', 'pool.lst']);
    assert.match(call, /^calypsoctl: Method not found/);
  });
});
