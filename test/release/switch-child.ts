/**
 * Child of switch.test.ts: exercises the release primitives in a tight loop until it is killed —
 * switch `current` between two releases, stage and commit a third, prune it again.
 * Usage: switch-child PREFIX SOURCE_DIR
 */
import { createLayout } from '../../agent/layout.js';
import { commitStaged, removeRelease, stageDirectory, switchCurrent } from '../../agent/release/releases.js';

const [prefix, source] = process.argv.slice(2) as [string, string];
const layout = createLayout(prefix);
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  await switchCurrent(layout, i % 2 ? '1.0.0' : '1.1.0');
  process.stdout.write(`${i}\n`); // progress: the test kills after a random number of these
  if (i % 5 === 0) {
    const s = await stageDirectory(layout, source, {});
    await commitStaged(layout, s.staging, s.manifest);
    await removeRelease(layout, s.manifest.version);
  }
}
