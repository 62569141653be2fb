/**
 * Runs inside a private mount namespace (tgt-map.test.ts starts it under `unshare -m` with a
 * tmpfs on /run, so tgtd's control socket never touches the machine's /run): starts tgtd on a
 * loopback portal, applies a library's tgt plan (agent/vtl/tgt-map.ts) with the real tgtimg and
 * tgtadm, reads back what tgt made of it (tgtadm show, iscsi-ls over iSCSI), shuts tgtd down and
 * prints the findings as JSON on stdout.
 */
import { existsSync } from 'node:fs';
import { createRunner } from '../../agent/runner.js';
import { tgtLibraryPlan } from '../../agent/vtl/tgt-map.js';

const { library, dir, control, port } = JSON.parse(process.argv[2]!);
const runner = createRunner();
const tgtd = runner.spawn(['tgtd', '-f', '-C', String(control), '--iscsi', `portal=127.0.0.1:${port}`], {
  timeoutMs: 120_000,
  dieWithParent: true,
});
tgtd.done.catch(() => {});
const out: Record<string, unknown> = {};
try {
  for (let i = 0; i < 100 && !existsSync(`/run/tgtd/socket.${control}`); i++)
    await new Promise((r) => setTimeout(r, 50));
  const iqn = 'iqn.2026-12.test.calypso:vtl';
  const plan = tgtLibraryPlan(library, { dir, control, tid: 1, iqn, initiator: '127.0.0.1' });
  for (const argv of plan) await runner.run(argv, { timeoutMs: 30_000 });
  out.commands = plan.length;
  out.show = (
    await runner.run(['tgtadm', '-C', String(control), '--lld', 'iscsi', '--mode', 'target', '--op', 'show'])
  ).stdout;
  out.ls = (await runner.run(['iscsi-ls', '-s', `iscsi://127.0.0.1:${port}`], { timeoutMs: 30_000 })).stdout;
} catch (e) {
  out.error = (e as Error).message;
} finally {
  // tgtd ignores SIGTERM while targets exist; this is its orderly shutdown
  await runner
    .run(['tgtadm', '-C', String(control), '--op', 'delete', '--mode', 'system'], {
      okCodes: [0, 1, 22, 107],
    })
    .catch(() => {});
  const exited = await Promise.race([
    tgtd.done.then(
      () => true,
      () => true,
    ),
    new Promise((r) => setTimeout(() => r(false), 5000)),
  ]);
  if (!exited) tgtd.child.kill('SIGKILL');
  await tgtd.done.catch(() => {});
  out.tgtdExited = true;
}
process.stdout.write(JSON.stringify(out));
