/**
 * The managed-config pipeline's contracts: what a subsystem declares (a target: files, steps,
 * validation, activation) and what an apply, a version and a recovery report look like. The
 * mechanism is index.ts.
 */
import type { Database } from 'lmdb';
import type { Logger } from 'pino';
import type { Runner, RunResult } from '../runner.js';
import type { SecretChange, SecretStore } from '../secrets.js';

/** The full set of files a target manages: absolute path → content (`undefined`: must not exist). */
export type FileSet = Map<string, string | undefined>;

/** One command of a validation or activation, as argv (never a shell string). */
export interface Step {
  argv: string[];
  /** stdin (never a secret: dry runs show it) */
  input?: string;
  okCodes?: number[];
  timeoutMs?: number;
  /**
   * A read-only condition evaluated both by the dry run and by the real run (e.g. "the director
   * is running"), so that the plan lists exactly the commands the apply runs.
   */
  when?: { describe: string; test: () => Promise<boolean> };
  /** Output checks: throw an RpcError to fail the step. */
  check?: (r: RunResult) => void | Promise<void>;
  /** The check reads stderr and the status only: stdout goes to /dev/null (RunOptions.discardStdout). */
  discardStdout?: boolean;
  /** Run by the target itself instead of the runner (bconsole sessions); must run `argv`. */
  run?: () => Promise<void>;
  /** What plans, results and logs show instead of `argv` (a secret in an argv, redacted). */
  shown?: string[];
}

export interface StepContext<S> {
  state: S;
  /** the committed state this change replaces */
  previous: S;
  /** paths whose content changes with this apply */
  changed: string[];
  /**
   * For a target that validates staged files (`validatesStaged`): where a file is while it is
   * validated — the new content beside the live file for one that changes, the live path for one
   * that does not. The dry run gets the same paths, so its plan shows the same argv.
   */
  staged?: (file: string) => string;
}

export interface ConfigTarget<S> {
  /** stable name: `bacula`, `tgt`, `scst`, `mhvtl`, `minio` */
  name: string;
  /** Render every managed file from desired state (pure, apart from reading secrets). */
  render(state: S): FileSet | Promise<FileSet>;
  /** Hide secrets in a file's text (diffs, history); default: unchanged. */
  redact?(text: string, file: string): string;
  /** File mode of written files; default 0600. */
  mode?: (file: string) => number;
  /** Idempotent preparation before files are written (directories the daemon needs). */
  prepare?(state: S): Promise<void>;
  /** The daemon's own check of the written files (e.g. `bacula-dir -t`). */
  validate?(ctx: StepContext<S>): Step[] | Promise<Step[]>;
  /**
   * Validate the new files before they replace the live ones (`ctx.staged` names them): the
   * daemon never sees a file its own check refuses, and the journal's syncs run beside the check.
   * Only for files the check reads alone (no include of a sibling that changes with them).
   */
  validatesStaged?: boolean;
  /**
   * Make the daemon use them (reload, restart, tgt-admin --update). May read the running
   * state (tgt: the tgtadm commands from what tgtd runs); the dry run calls it the same way.
   */
  activate?(ctx: StepContext<S>): Step[] | Promise<Step[]>;
  /** Initial state when LMDB holds none. */
  initial(): S;
}

export interface FileDiff {
  path: string;
  diff: string;
}

export interface ApplyOptions {
  user: string;
  summary: string;
  /** Run activation even when no file changes (re-apply after a daemon lost its state). */
  forceActivate?: boolean;
  /** A dry run: return the plan, change nothing. */
  dryRun?: boolean;
  /**
   * Writes the call's audit record (the RPC core's `CallContext.commitAudit`). Called inside the
   * commit's LMDB transaction, after the state and version are put: the change and its record
   * are committed together or not at all. Throwing aborts the commit (the change is undone).
   */
  audit?: () => void;
}

export interface ApplyResult {
  dryRun: boolean;
  /** files whose content changes (absolute paths) */
  changed: string[];
  /** redacted unified diffs */
  files: FileDiff[];
  /** argv of every command run (or, for a dry run, that would run), in order */
  commands: string[][];
  /** the version recorded, when the apply changed files or state */
  version?: number;
  notes: string[];
}

export interface VersionInfo {
  version: number;
  time: string;
  user: string;
  summary: string;
  changed: string[];
}

export interface VersionRecord<S> extends VersionInfo {
  state: S;
  /** every managed file, redacted */
  files: Record<string, string>;
}

export interface Head {
  version: number;
  /** every path the current version manages (files that disappear from a rendering are removed) */
  paths: string[];
}

export interface Journal {
  target: string;
  nextVersion: number;
  step: 'writing' | 'validating' | 'activating';
  files: { path: string; existed: boolean; backup?: string }[];
  time: string;
}

/**
 * A side effect a change needs before its files (a zvol for a new LUN): one command, and the
 * command that undoes it. The pipeline journals it, so a failed change or a crash leaves no
 * orphan. Both are argv (never a shell string); they must not carry a secret.
 */
export interface Effect {
  argv: string[];
  /** the command that takes it back (run when the change fails or was cut short) */
  undo?: string[];
  timeoutMs?: number;
}

/** What an update makes of the current state: the next one, and what must happen with it. */
export interface Change<S> {
  state: S;
  /** run in order before the files are written; undone in reverse when the change fails */
  effects?: Effect[];
  /** secrets.env changes; written under the journal and put back when the change fails */
  secrets?: SecretChange[];
  /** the version's summary, when the change knows it better than the caller (the LUN number picked) */
  summary?: string;
}

export interface UpdateContext {
  dryRun: boolean;
}

/**
 * Reads the committed state and returns the change, inside the pipeline's lock: nothing else
 * changes the target between this read and the commit. Throws to refuse (nothing changes).
 */
export type Updater<S> = (current: S, ctx: UpdateContext) => Change<S> | Promise<Change<S>>;

/** The side effects of one change in flight (`<journalDir>/<target>.effects.json`). */
export interface EffectsJournal {
  target: string;
  nextVersion: number;
  /** effects started, in order (`done: false`: cut short while running; undone all the same) */
  effects: { argv: string[]; undo?: string[]; done: boolean }[];
  /** secrets.env as it was before the change (the changes that undo it) */
  secrets: SecretChange[];
  time: string;
}

export interface ConfigSetOptions {
  db: Database;
  /** secrets.env: changes carry their secrets through the pipeline */
  secrets?: SecretStore;
  /** directory for journals (under var/lib/calypso) */
  journalDir: string;
  runner: Runner;
  log: Logger;
  now?: () => number;
  /** versions kept per target */
  keepVersions?: number;
  /**
   * The audit log whose records changes commit (`ApplyOptions.audit`): a commit that fails
   * after its record was appended puts the log's chain back (AuditLog.atomic).
   */
  audit?: { atomic<T>(fn: () => T): T };
}

export interface RecoveryReport {
  target: string;
  action: 'completed' | 'restored';
  files: string[];
}
