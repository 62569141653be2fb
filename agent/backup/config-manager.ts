/**
 * Applies a rendered Bacula configuration (DESIGN.md principle 3): write the changed files
 * atomically, validate them with the daemons' own test mode, reload the director, and put the
 * previous files back if validation or the reload fails. Every applied version is kept under
 * the config history directory (files mode 0600: they hold passwords) for diff and restore.
 *
 * Field finding (Bacula 9.6.7): a director asked to `reload` an invalid configuration keeps the
 * old one the first time, but a second such reload crashed it (SIGSEGV in the resource cleanup).
 * So nothing is ever reloaded that `bacula-dir -t` has not accepted.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createPatch } from 'diff';
import type { Logger } from 'pino';
import { RpcError } from '../../rpc/errors.js';
import type { Runner } from '../runner.js';
import { syncDir, writeFileAtomic } from './atomic-write.js';
import type { Bconsole } from './bconsole.js';
import { createCatalog } from './catalog.js';
import type { DesiredState } from './model.js';
import { parseStatusHeader } from './parse-bconsole.js';
import { type BaculaPaths, generatedFiles } from './paths.js';
import { renderAll } from './render.js';
import { redact } from './render-common.js';
import { diskPath } from './render-daemons.js';
import { allStorages } from './render-dir.js';
import { missingSecrets, renderSecrets, updateSecrets } from './secrets.js';

export interface FileDiff {
  path: string;
  diff: string;
}

export interface ApplyResult {
  /** config files that changed (absolute paths) */
  changed: string[];
  reloaded: boolean;
  /** daemons without a reload command whose config changed: restart them to take effect */
  restartRequired: ('bacula-dir' | 'bacula-sd' | 'bacula-fd')[];
  version?: number;
  notes: string[];
}

export interface ApplyMeta {
  user: string;
  summary: string;
  /** false: the director must be restarted instead (its address or port changed) */
  reload?: boolean;
}

export interface HistoryEntry {
  version: number;
  time: string;
  user: string;
  summary: string;
  changed: string[];
}

export interface ConfigManagerOptions {
  runner: Runner;
  paths: BaculaPaths;
  secretsFile: string;
  secrets: Map<string, string>;
  /** the console of the running director (settings may change between calls) */
  bconsole: () => Bconsole;
  log: Logger;
  keepVersions?: number;
}

const VALIDATE: Record<string, { bin: string; files: RegExp }> = {
  dir: { bin: 'bacula-dir', files: /^(bacula-dir\.conf|dir\.d\/)/ },
  sd: { bin: 'bacula-sd', files: /^(bacula-sd\.conf|sd\.d\/)/ },
  fd: { bin: 'bacula-fd', files: /^bacula-fd\.conf$/ },
};

export class ConfigManager {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private o: ConfigManagerOptions) {}

  private abs(rel: string): string {
    return path.join(this.o.paths.confDir, rel);
  }

  private async readCurrent(): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    for (const rel of generatedFiles()) {
      try {
        out.set(rel, await readFile(this.abs(rel), 'utf8'));
      } catch {
        out.set(rel, undefined);
      }
    }
    return out;
  }

  /** The commands an apply runs, for dry-run plans. */
  commands(): string[][] {
    const p = this.o.paths;
    return [
      ['bacula-dir', '-t', '-c', p.dirConf],
      ['bacula-sd', '-t', '-c', p.sdConf],
      ['bacula-fd', '-t', '-c', p.fdConf],
      ['bconsole', '-n', '-s', '-c', p.bconsoleConf],
    ];
  }

  /** Redacted unified diffs between the files on disk and the rendering of `state`. */
  async diff(state: DesiredState): Promise<FileDiff[]> {
    const next = renderAll(state, renderSecrets(state, this.o.secrets, true), this.o.paths);
    const cur = await this.readCurrent();
    const out: FileDiff[] = [];
    for (const [rel, text] of next) {
      const old = cur.get(rel);
      if (old === text) continue;
      out.push({
        path: this.abs(rel),
        diff: createPatch(this.abs(rel), redact(old ?? ''), redact(text), '', ''),
      });
    }
    return out;
  }

  /** Serialised: one apply at a time. */
  apply(state: DesiredState, meta: ApplyMeta): Promise<ApplyResult> {
    const run = this.chain.then(() => this.applyNow(state, meta));
    this.chain = run.catch(() => {});
    return run;
  }

  private async applyNow(state: DesiredState, meta: ApplyMeta): Promise<ApplyResult> {
    const { paths: p, log } = this.o;
    await updateSecrets(this.o.secretsFile, this.o.secrets, missingSecrets(state, this.o.secrets));
    const next = renderAll(state, renderSecrets(state, this.o.secrets), p);
    const cur = await this.readCurrent();
    const changed = [...next.keys()].filter((rel) => cur.get(rel) !== next.get(rel));
    const result: ApplyResult = {
      changed: changed.map((r) => this.abs(r)),
      reloaded: false,
      restartRequired: [],
      notes: [],
    };
    if (changed.length === 0) {
      result.notes.push('configuration unchanged');
      return result;
    }
    await this.prepareDirs(state);
    if (await createCatalog(this.o.runner, p.catalogDb)) result.notes.push(`catalog created: ${p.catalogDb}`);

    await this.writeSet(next, changed);
    try {
      for (const [daemon, v] of Object.entries(VALIDATE)) {
        const conf = daemon === 'dir' ? p.dirConf : daemon === 'sd' ? p.sdConf : p.fdConf;
        if (changed.some((rel) => v.files.test(rel))) await this.validate(v.bin, conf);
      }
      const dirChanged = changed.some((rel) => VALIDATE.dir!.files.test(rel));
      if (dirChanged && meta.reload === false) result.restartRequired.push('bacula-dir');
      else if (dirChanged) result.reloaded = await this.reload(result);
    } catch (err) {
      await this.writeSet(cur, changed);
      log.warn({ files: changed }, 'bacula: configuration rejected, previous files restored');
      throw err;
    }
    if (changed.some((rel) => VALIDATE.sd!.files.test(rel))) result.restartRequired.push('bacula-sd');
    if (changed.includes('bacula-fd.conf')) result.restartRequired.push('bacula-fd');
    result.version = await this.record(next, state, meta, result.changed);
    log.info(
      { version: result.version, files: changed, reloaded: result.reloaded },
      'bacula: configuration applied',
    );
    return result;
  }

  private async writeSet(files: Map<string, string | undefined>, which: string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const rel of which) {
      const text = files.get(rel);
      const abs = this.abs(rel);
      if (text === undefined) await rm(abs, { force: true });
      else await writeFileAtomic(abs, text, { mode: 0o600, syncDir: false });
      dirs.add(path.dirname(abs));
    }
    for (const d of dirs) await syncDir(d);
  }

  private async validate(bin: string, conf: string): Promise<void> {
    // The daemons print config errors on stdout (stderr stays empty), so every exit code is
    // accepted here and the output read for the reason.
    const r = await this.o.runner.run([bin, '-t', '-c', conf], {
      timeoutMs: 30_000,
      okCodes: Array.from({ length: 256 }, (_, i) => i),
    });
    if (r.code !== 0) {
      const out = `${r.stdout}\n${r.stderr}`;
      throw new RpcError(
        'invalid',
        `${bin} rejected the configuration: ${configError(out) || `exit code ${r.code}`}`,
        {
          daemon: bin,
          detail: redact(out).trim().slice(-1500),
        },
      );
    }
  }

  /** Reload when the director runs; verify it still answers afterwards. */
  private async reload(result: ApplyResult): Promise<boolean> {
    const bc = this.o.bconsole();
    const up = await bc.probe();
    if (!up.ok) {
      result.notes.push(`director not running; the configuration is used at its next start (${up.reason})`);
      return false;
    }
    const before = parseStatusHeader(await bc.api('.status dir header'));
    await bc.one('reload');
    const after = parseStatusHeader(await bc.api('.status dir header'));
    if (!after || (before?.pid !== undefined && after.pid !== before.pid)) {
      throw new RpcError('failed', 'bacula director did not come back after reload', {
        daemon: 'bacula-dir',
      });
    }
    return true;
  }

  private async prepareDirs(state: DesiredState): Promise<void> {
    const p = this.o.paths;
    for (const d of [p.confDir, p.dirWorkDir, p.workDir, p.pidDir, path.dirname(p.logFile), p.historyDir]) {
      await mkdir(d, { recursive: true, mode: 0o700 });
    }
    for (const st of allStorages(state))
      if (st.type === 'disk') await mkdir(diskPath(st, p), { recursive: true, mode: 0o750 });
  }

  private async record(
    files: Map<string, string>,
    state: DesiredState,
    meta: ApplyMeta,
    changed: string[],
  ): Promise<number> {
    const h = this.o.paths.historyDir;
    const versions = await this.versions();
    const version = (versions.at(-1) ?? 0) + 1;
    const dir = path.join(h, String(version).padStart(6, '0'));
    for (const [rel, text] of files)
      await writeFileAtomic(path.join(dir, rel), text, { mode: 0o600, syncDir: false });
    await writeFileAtomic(path.join(dir, 'state.json'), JSON.stringify(state, null, 2));
    const entry: HistoryEntry = {
      version,
      time: new Date().toISOString(),
      user: meta.user,
      summary: meta.summary,
      changed,
    };
    await writeFileAtomic(path.join(dir, 'meta.json'), JSON.stringify(entry, null, 2));
    const keep = this.o.keepVersions ?? 50;
    for (const old of versions.slice(0, Math.max(0, versions.length + 1 - keep))) {
      await rm(path.join(h, String(old).padStart(6, '0')), { recursive: true, force: true });
    }
    return version;
  }

  async versions(): Promise<number[]> {
    try {
      return (await readdir(this.o.paths.historyDir))
        .filter((n) => /^\d{6}$/.test(n))
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      return [];
    }
  }

  async history(): Promise<HistoryEntry[]> {
    const out: HistoryEntry[] = [];
    for (const v of (await this.versions()).reverse()) {
      try {
        out.push(JSON.parse(await readFile(this.versionPath(v, 'meta.json'), 'utf8')) as HistoryEntry);
      } catch {
        /* a version being written or pruned */
      }
    }
    return out;
  }

  versionPath(version: number, rel: string): string {
    return path.join(this.o.paths.historyDir, String(version).padStart(6, '0'), rel);
  }

  async versionState(version: number): Promise<DesiredState> {
    try {
      return JSON.parse(await readFile(this.versionPath(version, 'state.json'), 'utf8')) as DesiredState;
    } catch {
      throw new RpcError('not_found', `configuration version ${version} does not exist`);
    }
  }

  /** Redacted diff between two recorded versions (or a version and the files on disk). */
  async versionDiff(from: number, to?: number): Promise<FileDiff[]> {
    const read = async (v: number | undefined, rel: string) => {
      try {
        return await readFile(v === undefined ? this.abs(rel) : this.versionPath(v, rel), 'utf8');
      } catch {
        return '';
      }
    };
    await this.versionState(from);
    if (to !== undefined) await this.versionState(to);
    const out: FileDiff[] = [];
    for (const rel of generatedFiles()) {
      const a = await read(from, rel);
      const b = await read(to, rel);
      if (a !== b)
        out.push({
          path: this.abs(rel),
          diff: createPatch(this.abs(rel), redact(a), redact(b), `v${from}`, to ? `v${to}` : 'current'),
        });
    }
    return out;
  }
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
