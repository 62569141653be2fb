/**
 * The forced command's program (authorized_keys on the receiving appliance):
 * `node …/guard-main.js --prefix <dataset> [--send]` (`--send`: the key may also be pulled from). It checks SSH_ORIGINAL_COMMAND (guard.ts) and runs
 * the one allowed zfs argv without a shell, its stdin/stdout/stderr those of the SSH session,
 * or, for `zfs send -t <token>`, first `zfs send -nvt <token>` and the check of the name it decodes
 * (guard.ts checkResumeToken), or the combined reads and hold moves (state.ts: `calypso state` and `calypso settle`, one JSON
 * answer on stdout; `calypso holds`; `calypso drill-manifest`, manifest.ts), or refuses with a message on stderr and exit status 126.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkCommand, checkResumeToken, checkSettle, decodeTokenArgv } from './guard.js';
import { cloneName, makeManifest } from './manifest.js';
import { applyHolds, type EndState, type RunZfs, readState, settle } from './state.js';

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TZ: 'UTC' };
const i = process.argv.indexOf('--prefix');
const prefix = i > 0 ? (process.argv[i + 1] ?? '') : '';
const send = process.argv.includes('--send');
const decision = checkCommand(process.env.SSH_ORIGINAL_COMMAND ?? '', prefix, { send });
if ('refusal' in decision) {
  process.stderr.write(`calypso: refused: ${decision.refusal}\n`);
  process.exit(126);
}
const fail = (msg: string, code: number) => {
  process.stderr.write(`calypso: ${msg}\n`);
  process.exit(code);
};
if ('resume' in decision) {
  // a token names what it sends only inside its payload: ZFS decodes it, then the name is checked
  const argv = decodeTokenArgv(decision.resume.token);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: ENV, maxBuffer: 1 << 20 });
  if (r.error) fail(`${argv[0]}: ${r.error.message}`, 127);
  const checked = checkResumeToken(
    decision.resume.token,
    { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr },
    prefix,
  );
  if ('refusal' in checked) {
    process.stderr.write(`calypso: refused: ${checked.refusal}\n`);
    process.exit(126);
  }
  const [bin, ...args] = checked.argv;
  const s = spawnSync(bin!, args, { stdio: 'inherit', env: ENV });
  if (s.error) fail(`${bin}: ${s.error.message}`, 127);
  process.exit(s.status ?? 1);
}
if ('argv' in decision) {
  const [bin, ...args] = decision.argv;
  const r = spawnSync(bin!, args, { stdio: 'inherit', env: ENV });
  if (r.error) fail(`${bin}: ${r.error.message}`, 127);
  process.exit(r.status ?? 1);
}
const run: RunZfs = async (argv) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: ENV, maxBuffer: 256 << 20 });
  if (r.error) fail(`${argv[0]}: ${r.error.message}`, 127);
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
};
try {
  if ('state' in decision) {
    const st = await readState(run, decision.state, prefix);
    // a pull key on a ZFS with tokens may send by token (checked per token above)
    const out: EndState = send && st.tokens ? { ...st, sendsByToken: true } : st;
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else if ('holds' in decision) await applyHolds(run, decision.holds.tag, decision.holds.ops);
  else if ('manifest' in decision) {
    const { snapshot, limits } = decision.manifest;
    const clone = cloneName(prefix);
    const at = path.join(tmpdir(), path.basename(clone));
    process.stdout.write(`${JSON.stringify(await makeManifest(run, snapshot, clone, at, limits))}\n`);
  } else {
    const input = checkSettle(readFileSync(0, 'utf8'), decision.settle.datasets);
    if ('refusal' in input) {
      process.stderr.write(`calypso: refused: ${input.refusal}\n`);
      process.exit(126);
    }
    const out = await settle(run, prefix, decision.settle.tag, input.expect, input.ops);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
} catch (err) {
  fail(err instanceof Error ? err.message : String(err), 1);
}
