/**
 * Entry of `calypso-agent install` (dispatched from agent/main.ts): parses the installer's own
 * options, runs the install and prints what changed (or JSON with --json).
 *
 *   calypso-agent install [--prefix DIR] [--release DIR | --no-release] [--activate] [--start]
 *                         [--dry-run] [--json]
 */
import path from 'node:path';
import { createRunner } from '../runner.js';
import { type InstallOptions, type InstallReport, install } from './install.js';

export { type InstallOptions, type InstallReport, install };

export function parseInstallArgs(
  prefix: string,
  args: string[],
): Omit<InstallOptions, 'runner'> & { json: boolean } {
  const o: Omit<InstallOptions, 'runner'> & { json: boolean } = { prefix, json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--release' && args[i + 1]) o.release = path.resolve(args[++i]!);
    else if (a === '--no-release') o.release = false;
    else if (a === '--activate') o.activate = true;
    else if (a === '--start') o.start = true;
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--json') o.json = true;
    else if (a === '--prefix' && args[i + 1]) o.prefix = path.resolve(args[++i]!);
    else throw new Error(`install: unknown option ${a}`);
  }
  return o;
}

export function formatReport(r: InstallReport): string {
  const lines = [`calypso install under ${r.prefix}${r.dryRun ? ' (dry run: nothing changed)' : ''}`];
  for (const a of r.accounts) lines.push(`  account ${a.kind} ${a.name}: ${a.action}`);
  if (r.release)
    lines.push(
      `  release ${r.release.version}: ${r.release.activated ? 'current' : `placed (current: ${r.release.current})`}`,
    );
  if (r.changes.length === 0) lines.push('  no change: already installed');
  for (const c of r.changes)
    lines.push(`  ${c.action.padEnd(8)} ${c.path}${c.detail ? `  (${c.detail})` : ''}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Every `--prefix` on the command line must agree with the prefix we were given: an option
 * parser that hands a subcommand's `--prefix` to the parent would otherwise make a trial
 * install under a directory land on the real `/`.
 */
export function checkPrefixAgrees(prefix: string, argv: readonly string[] = process.argv): void {
  const seen: string[] = [];
  argv.forEach((a, i) => {
    if (a === '--prefix' && argv[i + 1] !== undefined) seen.push(argv[i + 1]!);
    else if (a.startsWith('--prefix=')) seen.push(a.slice('--prefix='.length));
  });
  for (const p of seen) {
    if (path.resolve(p) !== path.resolve(prefix)) {
      throw new Error(
        `install: the command line names --prefix ${p} but the install was asked for ${prefix}; refusing`,
      );
    }
  }
}

export async function runInstall(opts: { prefix: string; args?: string[] }): Promise<InstallReport> {
  checkPrefixAgrees(opts.prefix);
  const parsed = parseInstallArgs(opts.prefix, opts.args ?? []);
  const report = await install({ ...parsed, runner: createRunner() });
  process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report;
}
