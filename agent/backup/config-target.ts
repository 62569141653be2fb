/**
 * The Bacula configuration as a target of the managed-config pipeline (agent/config-set):
 * rendered from the desired state, validated with the daemons' own test mode, activated by a
 * director reload. The pipeline writes, rolls back, journals and records versions.
 *
 * Field finding (Bacula 9.6.7): a director asked to `reload` an invalid configuration keeps the
 * old one the first time, but a second such reload crashed it (SIGSEGV in the resource cleanup).
 * So nothing is ever reloaded that `bacula-dir -t` has not accepted: validation runs first.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RpcError } from '../../rpc/errors.js';
import type { ConfigTarget, FileSet, Step } from '../config-set/index.js';
import type { Runner } from '../runner.js';
import type { SecretReader } from '../secrets.js';
import type { Bconsole } from './bconsole.js';
import { createCatalog } from './catalog.js';
import type { DesiredState } from './model.js';
import { parseStatusHeader } from './parse-bconsole.js';
import type { BaculaPaths } from './paths.js';
import { renderAll } from './render.js';
import { redact } from './render-common.js';
import { diskPath } from './render-daemons.js';
import { allStorages } from './render-dir.js';
import { renderSecrets } from './secrets.js';

/** Which generated files each daemon reads, and its test-mode argv. */
export const DAEMON_FILES: Record<'dir' | 'sd' | 'fd', { bin: string; files: RegExp }> = {
  dir: { bin: 'bacula-dir', files: /^(bacula-dir\.conf|dir\.d\/)/ },
  sd: { bin: 'bacula-sd', files: /^(bacula-sd\.conf|sd\.d\/)/ },
  fd: { bin: 'bacula-fd', files: /^bacula-fd\.conf$/ },
};

/** The one console line an activation sends. */
export const RELOAD = 'reload';

export interface BaculaTargetOptions {
  runner: Runner;
  paths: BaculaPaths;
  secrets: SecretReader;
  bconsole: () => Bconsole;
  /** desired state found in LMDB before the pipeline kept it (agents before 0.2) */
  legacyState: () => DesiredState;
}

export function relPath(p: BaculaPaths, abs: string): string {
  return path.relative(p.confDir, abs);
}

export function validateArgv(p: BaculaPaths, daemon: keyof typeof DAEMON_FILES): string[] {
  const conf = daemon === 'dir' ? p.dirConf : daemon === 'sd' ? p.sdConf : p.fdConf;
  return [DAEMON_FILES[daemon].bin, '-t', '-c', conf];
}

export function baculaTarget(o: BaculaTargetOptions): ConfigTarget<DesiredState> {
  const { paths: p } = o;
  const changedRel = (changed: string[]) => changed.map((c) => relPath(p, c));
  return {
    name: 'bacula',
    initial: o.legacyState,
    render(state): FileSet {
      // missing passwords are generated before a real apply (secrets.env); a dry run shows a
      // placeholder, which the diff redacts like every password
      const files = renderAll(state, renderSecrets(state, o.secrets, true), p);
      return new Map([...files].map(([rel, text]) => [path.join(p.confDir, rel), text]));
    },
    redact: (text) => redact(text),
    async prepare(state) {
      for (const d of [p.confDir, p.dirWorkDir, p.workDir, p.pidDir, path.dirname(p.logFile)]) {
        await mkdir(d, { recursive: true, mode: 0o700 });
      }
      for (const st of allStorages(state))
        if (st.type === 'disk') await mkdir(diskPath(st, p), { recursive: true, mode: 0o750 });
      await createCatalog(o.runner, p.catalogDb);
    },
    validate({ changed }): Step[] {
      const rel = changedRel(changed);
      return (Object.keys(DAEMON_FILES) as (keyof typeof DAEMON_FILES)[])
        .filter((d) => rel.some((r) => DAEMON_FILES[d].files.test(r)))
        .map((d) => ({
          argv: validateArgv(p, d),
          // The daemons print config errors on stdout (stderr stays empty): every exit code is
          // accepted here and the output read for the reason.
          okCodes: Array.from({ length: 256 }, (_, i) => i),
          timeoutMs: 30_000,
          check: (r) => {
            if (r.code === 0) return;
            const out = `${r.stdout}\n${r.stderr}`;
            throw new RpcError(
              'invalid',
              `${DAEMON_FILES[d].bin} rejected the configuration: ${configError(out) || `exit code ${r.code}`}`,
              { daemon: DAEMON_FILES[d].bin, detail: redact(out).trim().slice(-1500) },
            );
          },
        }));
    },
    activate({ changed, state, previous }): Step[] {
      const rel = changedRel(changed);
      if (!rel.some((r) => DAEMON_FILES.dir.files.test(r)) || needsRestart(previous, state)) return [];
      const bc = o.bconsole();
      return [
        {
          argv: bc.argv(),
          input: RELOAD,
          when: { describe: 'the director is running', test: async () => (await bc.probe()).ok },
          // reload, then check the director still answers with the same pid
          run: async () => {
            const before = parseStatusHeader(await bc.api('.status dir header'));
            await bc.one(RELOAD);
            const after = parseStatusHeader(await bc.api('.status dir header'));
            if (!after || (before?.pid !== undefined && after.pid !== before.pid)) {
              throw new RpcError('failed', 'bacula director did not come back after reload', {
                daemon: 'bacula-dir',
              });
            }
          },
        },
      ];
    },
  };
}

/**
 * A director whose address, port or name changes cannot take the change by reload (the console
 * would reach it at the old address): it must be restarted.
 */
export function needsRestart(previous: DesiredState, next: DesiredState): boolean {
  const a = previous.settings;
  const b = next.settings;
  return a.address !== b.address || a.dirPort !== b.dirPort || a.directorName !== b.directorName;
}

/** The useful line of a Bacula config error ("Config error: ..." plus the file:line), redacted. */
export function configError(stderr: string): string {
  const lines = redact(stderr)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const err =
    lines.find((l) => /Config error:/.test(l)) ??
    lines.find((l) => /Fatal error:|ERR=/.test(l)) ??
    lines.find((l) => !/ERROR TERMINATION/.test(l)) ??
    lines[0] ??
    '';
  const where = lines.find((l) => /^: line \d+, col \d+ of file /.test(l));
  return [err.replace(/^.*?(Config error:|Fatal error:)\s*/, ''), where?.replace(/^:\s*/, '')]
    .filter(Boolean)
    .join(' — ');
}
