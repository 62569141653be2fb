#!/usr/bin/env node
/**
 * calypso-agent [--prefix DIR] [--config FILE] [--sysroot DIR]
 *
 * Runs in the foreground and logs JSON. Ready when the Unix socket answers `system.ping`
 * (a `ready` line is also printed to stderr with where to connect). SIGTERM/SIGINT: abort
 * running jobs (they are recorded as aborted), close LMDB, remove the socket, exit 0.
 *
 * `calypso-agent install [--prefix DIR]` lays out an appliance (see agent/install).
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { RpcError } from '../rpc/errors.js';
import { ConfigError } from './config.js';
import { createAgent } from './create-agent.js';
import { resolvePrefix } from './layout.js';
import { packageVersion } from './package-root.js';
import { APPLIANCE_SUBSYSTEMS } from './subsystems.js';
import { lazyModule } from './util/lazy.js';

/** The installer, from its own files beside the bundle (dist/agent/install): only `install` needs it. */
const installer = lazyModule<{ runInstall(opts: { prefix: string; args: string[] }): Promise<unknown> }>(
  'the installer (dist/agent/install)',
  () => import(new URL('./install/index.js', import.meta.url).href),
  'runInstall',
);

const program = new Command()
  // options after a subcommand belong to it: `install --prefix DIR` must not set the agent's --prefix
  .enablePositionalOptions()
  .name('calypso-agent')
  .description('Calypso storage appliance agent')
  .version(packageVersion())
  .option('--prefix <dir>', 'root of the appliance layout (default $CALYPSO_PREFIX or /)')
  .option('--config <file>', 'configuration file (default <prefix>/etc/calypso/calypso.yaml)')
  .option('--sysroot <dir>', 'root of the tree the hardware probes read', '/')
  .option('--quiet', 'do not log to stdout')
  .action(async (o: { prefix?: string; config?: string; sysroot: string; quiet?: boolean }) => {
    await runAgent(o);
  });

program
  .command('install')
  .description('install the appliance layout, config templates, units and rules (idempotent)')
  .option('--prefix <dir>', 'install under this directory instead of /')
  .option('--release <dir>', 'the release directory to place under releases/ (default: the one running)')
  .option('--no-release', 'place no release: layout, configuration, units and rules only')
  .option('--activate', 'point current at the placed release')
  .option('--start', 'reload systemd and udev, then enable and start the unit (systemctl enable --now)')
  .option('--dry-run', 'list what would change (the same plan the real run applies), change nothing')
  .option('--json', 'print the report as JSON')
  .showHelpAfterError('(calypso-agent install --help lists every option it accepts)')
  .action(
    async (o: {
      prefix?: string;
      release?: string | false;
      activate?: boolean;
      start?: boolean;
      dryRun?: boolean;
      json?: boolean;
    }) => {
      // the installer parses its own argv (agent/install/index.ts): hand it what commander checked
      const args: string[] = [];
      if (o.release === false) args.push('--no-release');
      else if (typeof o.release === 'string') args.push('--release', o.release);
      for (const [flag, on] of [
        ['--activate', o.activate],
        ['--start', o.start],
        ['--dry-run', o.dryRun],
        ['--json', o.json],
      ] as const)
        if (on) args.push(flag);
      const mod = await installer();
      await mod.runInstall({ prefix: resolvePrefix(o.prefix), args });
    },
  );

async function runAgent(o: { prefix?: string; config?: string; sysroot: string; quiet?: boolean }) {
  const prefix = resolvePrefix(o.prefix);
  let agent: Awaited<ReturnType<typeof createAgent>>;
  try {
    agent = await createAgent({
      prefix,
      configFile: o.config,
      sysroot: o.sysroot,
      // at a terminal the ready banner is the human's line; pino's JSON goes to the log file only
      // (under systemd, stdout is the journal: JSON there as before)
      logStdout: !o.quiet && !process.stdout.isTTY,
      // a recorded tree has no live udev events to follow
      services: o.sysroot === '/' ? APPLIANCE_SUBSYSTEMS : undefined,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`calypso-agent: bad configuration: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  let where: { socket: string; websocket?: string };
  try {
    where = await agent.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    const port = agent.deps.config.agent.websocket.port;
    if (e.code !== 'EADDRINUSE' || e.port !== port || !agent.deps.config.agent.websocket.enabled) throw err;
    // a second agent (or a demo) on the same host: one line that says what to do, no stack trace;
    // the Unix socket opened before the WebSocket is closed again and LMDB is left consistent
    await agent.stop().catch(() => {});
    process.stderr.write(
      `calypso-agent: port ${port} is in use (another agent?); set agent.websocket.port in calypso.yaml\n`,
    );
    process.exit(75); // EX_TEMPFAIL: the port may be free later
  }
  agent.deps.log.info({ socket: where.socket, websocket: where.websocket, prefix }, 'agent: ready');
  const ctl = calypsoctlCommand();
  process.stderr.write(
    `calypso-agent ${agent.deps.version} ready\n  socket:    ${where.socket}\n` +
      (where.websocket
        ? `  websocket: ${where.websocket} (bearer token: ${ctl} --socket ${where.socket} token create my-client --role operator)\n`
        : '') +
      `  try:       ${ctl} --socket ${where.socket} call system.ping\n`,
  );
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    agent.deps.log.info(`agent: ${sig}, stopping`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await agent.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

program.parseAsync(process.argv).catch((err) => {
  if (err instanceof RpcError && err.kind === 'unavailable') {
    process.stderr.write(`calypso-agent: ${err.message}\n`);
    process.exit(69); // EX_UNAVAILABLE
  }
  process.stderr.write(`calypso-agent: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

/**
 * How to run calypsoctl from here, as printed in the ready banner: `calypsoctl` where it is on
 * PATH (an appliance), else this checkout's or release's own CLI through this Node.js, so that
 * the line runs as printed.
 */
function calypsoctlCommand(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, 'calypsoctl'), constants.X_OK);
      return 'calypsoctl';
    } catch {
      /* not here */
    }
  }
  const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  return `${process.execPath} ${cli}`;
}
