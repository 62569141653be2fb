#!/usr/bin/env node
// npm run demo: an unprivileged agent under ./.demo with the embedded LMDB state.
// Installs npm dependencies and builds on first use, then runs the agent in the foreground.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
};
if (!existsSync(path.join(root, 'node_modules/.package-lock.json'))) run('npm', ['ci']);
run(process.execPath, ['scripts/build.mjs']);
const prefix = path.join(root, '.demo');
const config = path.join(prefix, 'etc/calypso/calypso.yaml');
if (!existsSync(config)) {
  mkdirSync(path.dirname(config), { recursive: true });
  writeFileSync(
    config,
    '# demo configuration: see README "Configuration"\nagent:\n  socket:\n    mode: "0600"\n  websocket:\n    port: 8787\nlog:\n  level: info\n',
  );
}
process.stderr.write(`demo prefix: ${prefix}\n`);
const r = spawnSync(
  process.execPath,
  [path.join(root, 'dist/agent/main.js'), '--prefix', prefix, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 0);
