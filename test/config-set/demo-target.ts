/**
 * A small config-set target for the pipeline's tests: two files rendered from `{value}`, a
 * validation that rejects a file containing BAD, an activation that logs which version it
 * activated and fails on ACTFAIL, and optional pauses (a marker file, then a sleep) so that a
 * test can kill the process inside a step. Real commands (sh) through the real runner.
 */
import path from 'node:path';
import type { ConfigTarget } from '../../agent/config-set/index.js';

export interface DemoState {
  value: string;
}

export interface DemoOptions {
  dir: string;
  /** secrets.env's stand-in: `DEMO_PASSWORD` is rendered into the file, never kept in LMDB */
  secrets?: { get(key: string): string | undefined };
  /** pause in this step (touch `<dir>/paused-<step>`, then sleep 60 s) */
  pauseIn?: 'validate' | 'activate';
  /** validate the new files staged beside the live ones (ConfigTarget.validatesStaged) */
  staged?: boolean;
}

export const files = (dir: string) => ({
  main: path.join(dir, 'etc', 'demo.conf'),
  extra: path.join(dir, 'etc', 'conf.d', 'extra.conf'),
  log: path.join(dir, 'activations.log'),
});

export function demoTarget(o: DemoOptions): ConfigTarget<DemoState> {
  const f = files(o.dir);
  const secret = () => o.secrets?.get('DEMO_PASSWORD');
  const pause = (step: string) =>
    o.pauseIn === step ? `touch "${path.join(o.dir, `paused-${step}`)}"; sleep 60; ` : '';
  return {
    name: 'demo',
    initial: () => ({ value: 'initial' }),
    render: (s) =>
      new Map([
        [f.main, `value = "${s.value}"\n${secret() ? `password = "${secret()}"\n` : ''}`],
        // the extra file exists only for some values: a file dropped from a rendering is removed
        [f.extra, s.value.startsWith('no-extra') ? undefined : `# extra for ${s.value}\n`],
      ]),
    redact: (text) => text.replace(/^(password = ").*(")$/gm, '$1********$2'),
    ...(o.staged ? { validatesStaged: true } : {}),
    validate: ({ staged }) => [
      {
        argv: ['sh', '-c', `${pause('validate')}! grep -q BAD "$1"`, 'validate', staged?.(f.main) ?? f.main],
        okCodes: [0],
        check: () => {},
      },
    ],
    activate: ({ state }) => [
      {
        argv: [
          'sh',
          '-c',
          `${pause('activate')}echo "$1" >> "$2"; ! grep -q ACTFAIL "$3"`,
          'activate',
          state.value,
          f.log,
          f.main,
        ],
      },
    ],
  };
}
