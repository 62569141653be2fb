/**
 * The /proc poller of issue #28 item 8, shared by test/iscsi/tgt-chap-argv.test.ts and
 * `npm run bench -- abuse`: run as `node -e POLLER` (as uid nobody, with an IPC channel), it
 * reads every process's cmdline in a loop, says 'ready', and on SIGTERM prints the distinct
 * command lines it saw that mention tgtadm, tgt-admin or a password.
 */
export const POLLER = `
const fs = require('node:fs');
const seen = new Set();
let stop = false;
process.on('SIGTERM', () => { stop = true; });
function scan() {
  for (const p of fs.readdirSync('/proc')) {
    if (p.charCodeAt(0) > 57) continue;
    try {
      const c = fs.readFileSync('/proc/' + p + '/cmdline', 'latin1');
      if (c.includes('tgtadm') || c.includes('tgt-admin') || c.includes('password')) seen.add(c.replaceAll('\\0', ' '));
    } catch {}
  }
  if (stop) { process.stdout.write(JSON.stringify([...seen])); process.exit(0); }
  setImmediate(scan);
}
scan();
process.send?.('ready');
`;
