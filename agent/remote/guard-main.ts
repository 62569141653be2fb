/**
 * The forced command's program (authorized_keys on the receiving appliance):
 * `node …/guard-main.js --prefix <dataset> [--send]` (`--send`: the key may also be pulled from). It checks SSH_ORIGINAL_COMMAND (guard.ts) and runs
 * the one allowed zfs argv without a shell, its stdin/stdout/stderr those of the SSH session,
 * or refuses with a message on stderr and exit status 126.
 */
import { spawnSync } from 'node:child_process';
import { checkCommand } from './guard.js';

const i = process.argv.indexOf('--prefix');
const prefix = i > 0 ? (process.argv[i + 1] ?? '') : '';
const decision = checkCommand(process.env.SSH_ORIGINAL_COMMAND ?? '', prefix, {
  send: process.argv.includes('--send'),
});
if ('refusal' in decision) {
  process.stderr.write(`calypso: refused: ${decision.refusal}\n`);
  process.exit(126);
}
const [bin, ...args] = decision.argv;
const r = spawnSync(bin!, args, {
  stdio: 'inherit',
  env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TZ: 'UTC' },
});
if (r.error) {
  process.stderr.write(`calypso: ${bin}: ${r.error.message}\n`);
  process.exit(127);
}
process.exit(r.status ?? 1);
