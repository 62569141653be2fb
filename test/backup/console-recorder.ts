/**
 * Records the bconsole sessions an agent runs (the lines each sends, dots and quit left out), so
 * a test can compare a dry run's console lines with what the real run sent. `sent()` keeps the
 * sessions that send something other than reads.
 */
import type { Lab } from './lab.js';

export function recordConsole(lab: Lab) {
  const runner = lab.t.deps.runner;
  const spawn = runner.spawn.bind(runner);
  const sessions: { argv: string[]; lines: string[] }[] = [];
  runner.spawn = (argv, opts) => {
    const sc = spawn(argv, opts);
    if (argv[0] === 'bconsole' && sc.child.stdin) {
      const stdin = sc.child.stdin;
      const end = stdin.end.bind(stdin) as (chunk?: unknown) => typeof stdin;
      stdin.end = ((chunk?: unknown) => {
        const lines = String(chunk ?? '')
          .split('\n')
          .filter((l) => l && l !== '.' && l !== 'quit');
        sessions.push({ argv: [...argv], lines });
        return end(chunk);
      }) as typeof stdin.end;
    }
    return sc;
  };
  const isRead = (l: string) => /^(\.|estimate |status |list |llist |messages)/.test(l);
  return {
    sent: () => sessions.filter((x) => x.lines.some((l) => !isRead(l))),
    clear: () => {
      sessions.length = 0;
    },
    stop: () => {
      runner.spawn = spawn;
    },
  };
}
