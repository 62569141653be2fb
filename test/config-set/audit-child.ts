/**
 * Child process for the audit-in-commit kill test: applies `{value}` to the demo target under
 * DIR with an audit record that the pipeline writes in its commit, and dies by SIGKILL the
 * moment that record is written (before anything after it could run). argv: DIR VALUE.
 */
import path from 'node:path';
import pino from 'pino';
import { AuditLog } from '../../agent/audit.js';
import { ConfigSet } from '../../agent/config-set/index.js';
import { createRunner } from '../../agent/runner.js';
import { openStore } from '../../agent/store.js';
import { demoTarget } from './demo-target.js';

const [dir, value] = process.argv.slice(2) as [string, string];
const store = await openStore({ path: path.join(dir, 'lmdb') });
const audit = new AuditLog(store.db('audit'));
const set = new ConfigSet({
  db: store.db('config'),
  journalDir: path.join(dir, 'journal'),
  runner: createRunner(),
  log: pino({ level: 'silent' }),
  audit,
});
const m = set.register(demoTarget({ dir }));
await m.apply(
  { value },
  {
    user: 'child',
    summary: `set ${value}`,
    audit: () => {
      audit.append({ user: 'child', transport: 'internal', method: 'demo.set', outcome: 'ok' });
      process.kill(process.pid, 'SIGKILL');
    },
  },
);
