/**
 * `calypso-agent install [--prefix DIR]`: lays out the appliance (docs/design.md "Filesystem
 * domains") idempotently — accounts, directories with owners and modes, configuration
 * templates, secrets, a self-signed certificate, the release itself, the systemd unit, log
 * rotation, udev rules and the Cockpit plugin. A second run changes nothing; every change the
 * first run makes is listed in the report.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Layout } from '../layout.js';
import { createLayout } from '../layout.js';
import { packageRoot } from '../package-root.js';
import {
  commitStaged,
  currentVersion,
  MANIFEST_FILE,
  stageDirectory,
  switchCurrent,
} from '../release/port.js';
import type { Runner } from '../runner.js';
import { type AccountResult, ensureAccounts, prefixAccounts } from './accounts.js';
import { renderConfigTemplate } from './config-template.js';
import { Applier, type Change } from './fs-apply.js';
import {
  ACCOUNTS,
  AGENT_UNIT,
  appDirs,
  commandLinks,
  FILE_MODES,
  type SystemPaths,
  systemDirs,
  systemPaths,
  TLS_FILES,
} from './plan.js';
import { mergeSecrets } from './secrets.js';
import { makeSelfSigned } from './tls.js';
import { renderLogrotate, renderUnit } from './units.js';

export interface InstallOptions {
  prefix: string;
  runner: Runner;
  /** An unpacked release to place under releases/ (default: this program's own, if it is one). */
  release?: string | false;
  /** Point `current` at the release even when another release is current. */
  activate?: boolean;
  /** On `/`: systemctl enable --now the agent. */
  start?: boolean;
  dryRun?: boolean;
  /** Prefix installs only: numeric ids to own files by (tests of the ownership step). */
  ids?: { users?: Record<string, number>; groups?: Record<string, number> };
  /** Where packaging/, udev/ and the Cockpit build are read from (default: the release or package root). */
  sourceRoot?: string;
  hostname?: string;
}

export interface InstallReport {
  prefix: string;
  dryRun: boolean;
  accounts: AccountResult[];
  release?: { version: string; activated: boolean; current?: string };
  changes: Change[];
  notes: string[];
}

function ownRelease(): string | undefined {
  const root = packageRoot();
  return existsSync(path.join(root, MANIFEST_FILE)) ? root : undefined;
}

export async function install(opts: InstallOptions): Promise<InstallReport> {
  const layout = createLayout(opts.prefix);
  const sys = systemPaths(layout.prefix);
  const apply = !opts.dryRun;
  const notes: string[] = [];
  const releaseSrc = opts.release === false ? undefined : (opts.release ?? ownRelease());
  const src = opts.sourceRoot ?? releaseSrc ?? packageRoot();
  const real = layout.prefix === '/';

  const pending: Change[] = [];
  const { results: accounts, ids } = real
    ? await ensureAccounts(opts.runner, ACCOUNTS, layout.stateDir, apply, (c) => pending.push(c))
    : prefixAccounts(ACCOUNTS, opts.ids);
  const fs = new Applier(ids, apply);
  for (const c of pending) fs.note(c);

  for (const d of [...systemDirs(sys), ...appDirs(layout)]) fs.ensureDir(d.path, d.mode, d.owner);

  fs.ensureFileOnce(
    layout.configFile,
    () => renderConfigTemplate(),
    FILE_MODES.config.mode,
    FILE_MODES.config.owner,
  );
  const secretsNow = existsSync(layout.secretsFile) ? readFileSync(layout.secretsFile, 'utf8') : undefined;
  fs.ensureFile(
    layout.secretsFile,
    mergeSecrets(secretsNow),
    FILE_MODES.secrets.mode,
    FILE_MODES.secrets.owner,
  );
  await ensureTls(opts, layout, fs, notes);

  const release = await placeRelease(layout, releaseSrc, opts, fs, notes);
  // a dry run that would activate a release: its commands count as present
  linkCommands(layout, sys, fs, notes, !apply && release?.activated ? releaseSrc : undefined);

  const unitTpl = readFileSync(path.join(src, 'packaging/systemd/calypso-agent.service.in'), 'utf8');
  const doc = path.join(layout.current, 'docs', 'install.md');
  const unitFile = path.join(sys.systemdUnitDir, AGENT_UNIT);
  const before = fs.changes.length;
  fs.ensureFile(unitFile, renderUnit(unitTpl, layout, doc), FILE_MODES.unit.mode, FILE_MODES.unit.owner);
  const unitChanged = fs.changes.length > before;
  const rotTpl = readFileSync(path.join(src, 'packaging/logrotate/calypso.in'), 'utf8');
  fs.ensureFile(
    path.join(sys.logrotateDir, 'calypso'),
    renderLogrotate(rotTpl, layout),
    FILE_MODES.logrotate.mode,
    FILE_MODES.logrotate.owner,
  );

  const rulesBefore = fs.changes.length;
  const rulesDir = path.join(src, 'udev');
  const rules = existsSync(rulesDir)
    ? readdirSync(rulesDir)
        .filter((f) => f.endsWith('.rules'))
        .sort()
    : [];
  for (const r of rules) {
    fs.ensureFile(
      path.join(sys.udevRulesDir, r),
      readFileSync(path.join(rulesDir, r)),
      FILE_MODES.udevRule.mode,
      FILE_MODES.udevRule.owner,
    );
  }
  if (rules.length === 0) notes.push(`udev: no rules in ${rulesDir}`);
  const rulesChanged = fs.changes.length > rulesBefore;

  installCockpit(layout, sys.cockpitDir, src, fs, notes, apply);

  if (real && apply) await activateOnHost(opts, unitChanged, rulesChanged, fs, notes);
  else if (opts.start) notes.push('--start applies only to an install on /');

  return { prefix: layout.prefix, dryRun: !apply, accounts, release, changes: fs.changes, notes };
}

async function ensureTls(opts: InstallOptions, layout: Layout, fs: Applier, notes: string[]): Promise<void> {
  const cert = path.join(layout.tlsDir, TLS_FILES.cert);
  const key = path.join(layout.tlsDir, TLS_FILES.key);
  const hasCert = existsSync(cert);
  const hasKey = existsSync(key);
  if (hasCert !== hasKey) {
    notes.push(`tls: only one of ${TLS_FILES.cert} and ${TLS_FILES.key} exists; left alone`);
  }
  if (!hasCert && !hasKey) {
    if (opts.dryRun) {
      fs.note({ path: cert, action: 'write', detail: 'self-signed certificate (openssl req -x509)' });
      fs.note({ path: key, action: 'write', detail: 'its private key' });
      return;
    }
    const made = await makeSelfSigned(opts.runner, opts.hostname);
    fs.ensureFile(key, made.key, FILE_MODES.tlsKey.mode, FILE_MODES.tlsKey.owner);
    fs.ensureFile(cert, made.cert, FILE_MODES.tlsCert.mode, FILE_MODES.tlsCert.owner);
    return;
  }
  // Existing files: only their modes and owners are enforced (the key must stay private).
  if (hasKey) fs.ensureFileOnce(key, () => '', FILE_MODES.tlsKey.mode, FILE_MODES.tlsKey.owner);
  if (hasCert) fs.ensureFileOnce(cert, () => '', FILE_MODES.tlsCert.mode, FILE_MODES.tlsCert.owner);
}

async function placeRelease(
  layout: Layout,
  srcDir: string | undefined,
  opts: InstallOptions,
  fs: Applier,
  notes: string[],
): Promise<InstallReport['release']> {
  if (!srcDir) {
    notes.push('release: not running from a release; no release placed (build one with npm run release)');
    return undefined;
  }
  const manifest = JSON.parse(readFileSync(path.join(srcDir, MANIFEST_FILE), 'utf8')) as { version: string };
  const dest = path.join(layout.releases, manifest.version);
  const cur = currentVersion(layout);
  const activate = !cur || (opts.activate === true && cur !== manifest.version);
  const present = existsSync(path.join(dest, MANIFEST_FILE)) && path.resolve(srcDir) !== path.resolve(dest);
  if (opts.dryRun) {
    if (!existsSync(dest)) fs.note({ path: dest, action: 'write', detail: `release ${manifest.version}` });
    if (activate)
      fs.note({ path: layout.current, action: 'symlink', detail: `releases/${manifest.version}` });
    return { version: manifest.version, activated: activate, current: cur };
  }
  if (path.resolve(srcDir) !== path.resolve(dest)) {
    const sameBytes =
      present &&
      readFileSync(path.join(dest, MANIFEST_FILE)).equals(readFileSync(path.join(srcDir, MANIFEST_FILE)));
    if (!sameBytes) {
      const { staging, manifest: m } = await stageDirectory(layout, srcDir, {});
      await commitStaged(layout, staging, m);
      fs.note({ path: dest, action: 'write', detail: `release ${m.version}` });
    }
  }
  if (activate) {
    await switchCurrent(layout, manifest.version);
    fs.note({ path: layout.current, action: 'symlink', detail: `releases/${manifest.version}` });
  } else if (cur !== manifest.version) {
    notes.push(
      `release: ${manifest.version} placed; ${cur} stays current (upgrade with calypsoctl release install, or --activate)`,
    );
  }
  return { version: manifest.version, activated: activate, current: currentVersion(layout) };
}

/**
 * `calypsoctl` on PATH: a link in /usr/local/bin to `current/bin/calypsoctl`, the release's
 * launcher, which resolves the link chain (readlink -f) to run its own release. Made once the
 * current release has the command (or the dry run is about to activate one); a file of the same
 * name that is not a link is someone else's and is left alone, with a note.
 */
function linkCommands(
  layout: Layout,
  sys: SystemPaths,
  fs: Applier,
  notes: string[],
  incoming: string | undefined,
): void {
  for (const l of commandLinks(layout, sys)) {
    const present =
      existsSync(l.resolved) || (incoming && existsSync(path.join(incoming, 'bin', path.basename(l.link))));
    if (!present) continue;
    const st = lstatSync(l.link, { throwIfNoEntry: false });
    if (st && !st.isSymbolicLink()) {
      notes.push(`${l.link}: exists and is not a link; left alone (run ${l.resolved})`);
      continue;
    }
    fs.ensureSymlink(l.link, l.target);
  }
}

function installCockpit(
  layout: Layout,
  dest: string,
  src: string,
  fs: Applier,
  notes: string[],
  apply: boolean,
): void {
  if (existsSync(path.join(layout.current, 'web'))) {
    // A link into `current`: the UI changes with the release, atomically, at the same switch.
    const target = path.relative(path.dirname(dest), path.join(layout.current, 'web'));
    if (lstatSync(dest, { throwIfNoEntry: false })?.isDirectory()) {
      if (apply) rmSync(dest, { recursive: true, force: true });
      fs.note({ path: dest, action: 'write', detail: 'development copy replaced by the release link' });
    }
    fs.ensureSymlink(dest, target);
    return;
  }
  const built = path.join(src, 'cockpit', 'dist');
  if (!existsSync(built)) {
    notes.push('cockpit: the plugin is not built (cockpit/dist); skipped');
    return;
  }
  copyTree(built, dest, fs);
}

function copyTree(from: string, to: string, fs: Applier): void {
  fs.ensureDir(to, FILE_MODES.webDir.mode, FILE_MODES.webDir.owner);
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const a = path.join(from, e.name);
    const b = path.join(to, e.name);
    if (e.isDirectory()) copyTree(a, b, fs);
    else if (e.isFile()) fs.ensureFile(b, readFileSync(a), FILE_MODES.web.mode, FILE_MODES.web.owner);
  }
}

async function activateOnHost(
  opts: InstallOptions,
  unitChanged: boolean,
  rulesChanged: boolean,
  fs: Applier,
  notes: string[],
) {
  const run = async (argv: string[]) => {
    try {
      await opts.runner.run(argv, { timeoutMs: 120_000 });
      fs.note({ path: argv.join(' '), action: 'command' });
    } catch (err) {
      notes.push(`${argv.join(' ')}: ${(err as Error).message}`);
    }
  };
  if (unitChanged) await run(['systemctl', 'daemon-reload']);
  if (rulesChanged) await run(['udevadm', 'control', '--reload']);
  if (opts.start) await run(['systemctl', 'enable', '--now', AGENT_UNIT]);
}
