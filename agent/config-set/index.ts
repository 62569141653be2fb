import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createPatch } from 'diff';
import type { Database } from 'lmdb';
import { EffectsRun, effectsFile, readEffectsJournal, undoEffects, undoSecrets } from './effects.js';
import {
  dropJournal,
  journalActivating,
  keptFiles,
  readFiles,
  readJournal,
  stageBeside,
  stagedPath,
  stageFiles,
  writeFiles,
  writeJournal,
} from './files.js';
import type {
  ApplyOptions,
  ApplyResult,
  Change,
  ConfigSetOptions,
  ConfigTarget,
  FileDiff,
  FileSet,
  Head,
  Journal,
  RecoveryReport,
  Step,
  StepContext,
  Updater,
  VersionInfo,
  VersionRecord,
} from './types.js';
import { type PreparedCommit, Versions } from './versions.js';

export type {
  ApplyOptions,
  ApplyResult,
  Change,
  ConfigSetOptions,
  ConfigTarget,
  Effect,
  FileDiff,
  FileSet,
  RecoveryReport,
  Step,
  StepContext,
  UpdateContext,
  Updater,
  VersionInfo,
} from './types.js';

export class ConfigSet {
  private chain: Promise<unknown> = Promise.resolve();
  private targets = new Map<string, ManagedConfig<unknown>>();
  private recovered: Promise<RecoveryReport[]> | undefined;

  constructor(readonly o: ConfigSetOptions) {}

  register<S>(target: ConfigTarget<S>): ManagedConfig<S> {
    if (this.targets.has(target.name)) throw new Error(`config-set: target ${target.name} registered twice`);
    const m = new ManagedConfig<S>(this, target);
    this.targets.set(target.name, m as ManagedConfig<unknown>);
    return m;
  }

  get(name: string): ManagedConfig<unknown> | undefined {
    return this.targets.get(name);
  }

  names(): string[] {
    return [...this.targets.keys()];
  }

  /** Finish or undo applies cut short by a crash; idempotent, awaited before any apply. */
  recoverAll(): Promise<RecoveryReport[]> {
    this.recovered ??= this.serial(async () => {
      const out: RecoveryReport[] = [];
      for (const m of this.targets.values()) {
        const r = await m.recover();
        if (r) out.push(r);
      }
      return out;
    });
    return this.recovered;
  }

  /** One lock for every change of every target. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }
}

/** `fn` on the event loop's next turn: after the step started meanwhile has spawned its process. */
function besideChild<T>(fn: () => T | Promise<T>): Promise<T> {
  return new Promise((resolve, reject) =>
    setImmediate(() => {
      try {
        resolve(fn());
      } catch (err) {
        reject(err);
      }
    }),
  );
}

export class ManagedConfig<S> {
  private versions: Versions<S>;
  /** the last apply's journal being dropped (after its answer); awaited before the next one is written */
  private dropping: Promise<void> | undefined;

  constructor(
    private set: ConfigSet,
    readonly target: ConfigTarget<S>,
  ) {
    this.versions = new Versions(set.o.db, target.name, () => target.initial());
  }

  private get db(): Database {
    return this.set.o.db;
  }
  private journalDir(): string {
    return path.join(this.set.o.journalDir, this.target.name);
  }
  private redact(text: string, file: string): string {
    return this.target.redact ? this.target.redact(text, file) : text;
  }

  /** The committed desired state (the target's initial state before the first apply). */
  state(): S {
    return this.versions.state();
  }

  head(): Head | undefined {
    return this.versions.head();
  }

  /** Plan a change without making it: the same rendering, diff and steps the apply uses. */
  plan(next: S, opts: Omit<ApplyOptions, 'dryRun'>): Promise<ApplyResult> {
    return this.apply(next, { ...opts, dryRun: true });
  }

  /**
   * Apply a new desired state (serialised with every other change). It replaces the state
   * whole: a change made of the current state is `update`, which reads it inside the lock.
   */
  apply(next: S, opts: ApplyOptions): Promise<ApplyResult> {
    return this.update(() => ({ state: next }), opts);
  }

  /**
   * The whole read-modify-write of one change as one step: `fn` reads the committed state and
   * returns the next one with its side effects and secrets, inside the pipeline's lock; then
   * the effects run, the secrets are written, and the files are rendered, written, validated,
   * activated and committed. Any failure (and a crash, at the next start) undoes all of it. A
   * dry run calls `fn` the same way and plans with its secrets previewed: effects' argv first.
   */
  update(fn: Updater<S>, opts: ApplyOptions): Promise<ApplyResult> {
    return this.set.recoverAll().then(() => this.set.serial(() => this.updateNow(fn, opts)));
  }

  /** Re-apply the committed state: rewrite files that drifted and activate. */
  reapply(opts: Omit<ApplyOptions, 'forceActivate'>): Promise<ApplyResult> {
    return this.set
      .recoverAll()
      .then(() => this.set.serial(() => this.applyNow(this.state(), { ...opts, forceActivate: true })));
  }

  private async runSteps(steps: Step[], commands: string[][], dryRun: boolean): Promise<void> {
    for (const s of steps) {
      if (s.when && !(await s.when.test())) continue;
      commands.push(s.shown ?? s.argv);
      if (dryRun) continue;
      if (s.run) {
        await s.run();
        continue;
      }
      const r = await this.set.o.runner.run(s.argv, {
        input: s.input,
        okCodes: s.okCodes,
        timeoutMs: s.timeoutMs ?? 60_000,
        ...(s.discardStdout ? { discardStdout: true } : {}),
        ...(s.shown ? { shownArgv: s.shown } : {}),
      });
      await s.check?.(r);
    }
  }

  private diffs(cur: FileSet, next: FileSet, changed: string[], from = '', to = ''): FileDiff[] {
    return changed.map((p) => ({
      path: p,
      diff: createPatch(p, this.redact(cur.get(p) ?? '', p), this.redact(next.get(p) ?? '', p), from, to),
    }));
  }

  private effectsDeps() {
    const { journalDir, runner, log, secrets } = this.set.o;
    return { journalDir, runner, log, ...(secrets ? { secrets } : {}) };
  }

  private async updateNow(fn: Updater<S>, opts: ApplyOptions): Promise<ApplyResult> {
    const dryRun = opts.dryRun === true;
    const change: Change<S> = await fn(this.state(), { dryRun });
    if (change.summary) opts = { ...opts, summary: change.summary };
    const effects = change.effects ?? [];
    const secrets = change.secrets ?? [];
    const before = (r: ApplyResult): ApplyResult => {
      r.commands.unshift(...effects.map((e) => e.argv));
      r.notes.unshift(
        ...secrets.map(
          (c) => `secrets.env: ${c.key} ${c.value === undefined ? 'removed' : 'set'} (value not shown)`,
        ),
      );
      return r;
    };
    if (dryRun) {
      const plan = () => this.applyNow(change.state, opts);
      return before(await (this.set.o.secrets ? this.set.o.secrets.preview(secrets, plan) : plan()));
    }
    if (!effects.length && !secrets.length) return this.applyNow(change.state, opts);
    const run = new EffectsRun(
      this.effectsDeps(),
      this.target.name,
      (this.head()?.version ?? 0) + 1,
      new Date(this.now()).toISOString(),
    );
    let r: ApplyResult;
    try {
      for (const e of effects) await run.run(e);
      await run.writeSecrets(secrets);
      r = await this.applyNow(change.state, opts);
    } catch (err) {
      await run.undo();
      throw err;
    }
    await run.finish();
    return before(r);
  }

  private async applyNow(nextState: S, opts: ApplyOptions): Promise<ApplyResult> {
    const { log } = this.set.o;
    const dryRun = opts.dryRun === true;
    const rendered = await this.target.render(nextState);
    const head = this.head();
    const next: FileSet = new Map(rendered);
    for (const p of head?.paths ?? []) if (!next.has(p)) next.set(p, undefined);
    const cur = await readFiles(next.keys());
    const changed = [...next.keys()].filter((p) => cur.get(p) !== next.get(p));
    const result = { dryRun, changed, commands: [], notes: [] } as unknown as ApplyResult;
    // the diffs only when read (a plan shows them; an apply's answer does not): a 1,000-share smb.conf
    // changed in every section took jsdiff 3 s, most of a real apply's time (bench/shares.ts)
    let files: FileDiff[] | undefined;
    Object.defineProperty(result, 'files', {
      enumerable: true,
      get: () => {
        files ??= this.diffs(cur, next, changed);
        return files;
      },
    });
    // a target that validates staged files checks the new ones beside the live ones (ctx.staged)
    const staged =
      this.target.validatesStaged && changed.length
        ? (p: string) => (changed.includes(p) && next.get(p) !== undefined ? stagedPath(p) : p)
        : undefined;
    const ctx: StepContext<S> = {
      state: nextState,
      previous: this.state(),
      changed,
      ...(staged ? { staged } : {}),
    };
    const activating = changed.length > 0 || opts.forceActivate === true;
    // the state compared only when no file changes (two JSON texts of 1,000 shares: ~10 ms)
    if (!activating && JSON.stringify(nextState) === JSON.stringify(ctx.previous)) {
      result.notes.push('configuration unchanged');
      return result;
    }
    const validate = changed.length ? ((await this.target.validate?.(ctx)) ?? []) : [];
    const activate = activating ? ((await this.target.activate?.(ctx)) ?? []) : [];
    if (dryRun) {
      await this.runSteps([...validate, ...activate], result.commands, true);
      return result;
    }

    const version = (head?.version ?? 0) + 1;
    const jdir = this.journalDir();
    await this.dropping; // the last apply's journal, dropped after its answer
    let journal: Journal | undefined;
    let durable: Promise<void> | undefined;
    let prepared: PreparedCommit;
    // the version's values packed on the event loop's next turn, then written under keys nothing
    // reads until the commit moves the head (versions.ts): both beside the validation command
    const pack = () =>
      besideChild(() => this.prepareCommit(version, nextState, next, changed, opts)).then(async (c) => {
        await this.versions.stage(c);
        return c;
      });
    const head0 = {
      target: this.target.name,
      nextVersion: version,
      time: new Date(this.now()).toISOString(),
    };
    if (staged) {
      // the new files beside the live ones; the journal, the validation and the commit's packing
      // side by side (the journal, like the packing, from the event loop's next turn: the check's
      // process is started first). Refused: the staged files go and the live ones were never touched.
      await this.target.prepare?.(nextState);
      const st = stageBeside(next, changed, (p) => this.target.mode?.(p));
      const [j, v, c] = await Promise.allSettled([
        besideChild(() => writeJournal(jdir, head0, cur, changed)),
        this.runSteps(validate, result.commands, false),
        pack(),
      ]);
      if (j.status === 'rejected' || v.status === 'rejected' || c.status === 'rejected') {
        st.discard();
        dropJournal(jdir);
        await this.versions.unstage(version);
        const why = [v, j, c].find((x) => x.status === 'rejected') as PromiseRejectedResult;
        log.warn(
          { target: this.target.name, files: changed },
          `${this.target.name}: change rejected, files untouched`,
        );
        throw why.reason;
      }
      journal = j.value;
      prepared = c.value;
      try {
        durable = st.commit().durable;
      } catch (err) {
        // a rename failed: what was renamed goes back from the journal
        await this.writeFiles(cur, changed);
        st.discard();
        dropJournal(jdir);
        await this.versions.unstage(version);
        throw err;
      }
    } else {
      if (changed.length) {
        await this.target.prepare?.(nextState);
        journal = await writeJournal(jdir, head0, cur, changed);
        // in place at once, synced while the steps run (the journal undoes a crash before the commit)
        const w = stageFiles(next, changed, (p) => this.target.mode?.(p));
        await w.staged;
        durable = w.durable;
      }
      try {
        // no journal write before validating: a crash there is undone as one in `writing` (the
        // previous files put back, nothing re-activated), so that step's sync bought nothing.
        // The commit's values are packed while the validation command runs (CPU beside a child).
        const [v, c] = await Promise.allSettled([this.runSteps(validate, result.commands, false), pack()]);
        if (v.status === 'rejected') throw v.reason;
        if (c.status === 'rejected') throw c.reason;
        prepared = c.value;
      } catch (err) {
        if (journal) await this.undoFiles(cur, changed, journal, result.notes);
        await this.versions.unstage(version);
        throw err;
      }
    }
    try {
      if (journal) await journalActivating(jdir, journal);
      await this.runSteps(activate, result.commands, false);
      await durable; // the new files on disk before LMDB says they are the version
      result.version = await this.commit(prepared, opts);
    } catch (err) {
      if (journal) await this.undoFiles(cur, changed, journal, result.notes);
      await this.versions.unstage(version);
      throw err;
    }
    // the committed journal is dropped after the answer (a crash first: recovery sees the version
    // committed and drops it); the next apply waits for that
    if (journal) this.dropping = rm(jdir, { recursive: true, force: true }).catch(() => {});
    log.info(
      { target: this.target.name, version, files: changed },
      `${this.target.name}: configuration applied`,
    );
    return result;
  }

  /** A change refused or failed after the files were replaced: the previous files back (re-activated if need be). */
  private async undoFiles(cur: FileSet, changed: string[], journal: Journal, notes: string[]): Promise<void> {
    await this.writeFiles(cur, changed);
    if (journal.step === 'activating') await this.reactivateOld(changed, notes);
    dropJournal(this.journalDir());
    this.set.o.log.warn(
      { target: this.target.name, files: changed },
      `${this.target.name}: change rejected, previous files restored`,
    );
  }

  /** After a failed activation: the old files are back; make the daemon use them again. */
  private async reactivateOld(changed: string[], notes: string[]): Promise<void> {
    const old = this.state();
    try {
      await this.runSteps(
        (await this.target.activate?.({ state: old, previous: old, changed })) ?? [],
        [],
        false,
      );
      notes.push('previous version re-activated');
    } catch (err) {
      this.set.o.log.error(
        { err, target: this.target.name },
        `${this.target.name}: re-activating the previous version failed`,
      );
    }
  }

  private writeFiles(files: FileSet, which: string[]): Promise<void> {
    return writeFiles(files, which, (p) => this.target.mode?.(p));
  }

  private now(): number {
    return (this.set.o.now ?? Date.now)();
  }

  /** The version's values to commit: its state packed once, its files redacted. */
  private prepareCommit(
    version: number,
    state: S,
    files: FileSet,
    changed: string[],
    opts: ApplyOptions,
  ): PreparedCommit {
    const info: VersionInfo = {
      version,
      time: new Date(this.now()).toISOString(),
      user: opts.user,
      summary: opts.summary,
      changed,
    };
    return this.versions.prepare(info, state, files, (text, p) => this.redact(text, p));
  }

  /** The head moved to the staged version, with the call's audit record, in one LMDB transaction. */
  private async commit(c: PreparedCommit, opts: ApplyOptions): Promise<number> {
    // synchronous, on this thread: the head and the audit record are a few small puts, and the
    // transaction's hops to lmdb-js's write thread and back cost 5–8 ms of the answer (bench/shares.ts).
    // A throw inside (the audit record failing) aborts all of it.
    this.db.transactionSync(() => {
      const writes = () => {
        this.versions.write(c, this.set.o.keepVersions ?? 50);
        opts.audit?.();
      };
      if (this.set.o.audit) this.set.o.audit.atomic(writes);
      else writes();
    });
    this.versions.committed(c);
    return c.version;
  }

  /**
   * Called once at start: complete or undo an apply a crash cut short, with its side effects
   * (secrets put back first, then the files, then the effects undone in reverse).
   */
  async recover(): Promise<RecoveryReport | undefined> {
    const ef = effectsFile(this.set.o.journalDir, this.target.name);
    const pending = await readEffectsJournal(ef);
    const undo = pending && (this.head()?.version ?? 0) < pending.nextVersion ? pending : undefined;
    if (undo) await undoSecrets(this.effectsDeps(), undo);
    const r = await this.recoverFiles();
    // a version staged by an apply cut short before its commit (versions.ts): never read, removed
    await this.versions.unstage((this.head()?.version ?? 0) + 1);
    if (undo) {
      await undoEffects(this.effectsDeps(), undo);
      this.set.o.log.warn(
        {
          target: undo.target,
          effects: undo.effects.map((e) => e.argv),
          secrets: undo.secrets.map((s) => s.key),
        },
        `${undo.target}: the side effects of an interrupted change were undone`,
      );
    }
    await rm(ef, { force: true });
    if (undo && !r) return { target: this.target.name, action: 'restored', files: [] };
    return r;
  }

  private async recoverFiles(): Promise<RecoveryReport | undefined> {
    const dir = this.journalDir();
    const j = await readJournal(dir);
    // new files a crash left staged beside the live ones (validatesStaged): never in use
    if (this.target.validatesStaged)
      for (const p of new Set([...(this.head()?.paths ?? []), ...(j?.files.map((f) => f.path) ?? [])]))
        rmSync(stagedPath(p), { force: true });
    if (!j) {
      // no journal (or one whose writing was cut short: no file was touched yet)
      dropJournal(dir);
      return undefined;
    }
    const files = j.files.map((f) => f.path);
    if ((this.head()?.version ?? 0) >= j.nextVersion) {
      dropJournal(dir);
      this.set.o.log.warn(
        { target: j.target, files },
        `${j.target}: an interrupted apply had committed; completed`,
      );
      return { target: j.target, action: 'completed', files };
    }
    await this.writeFiles(await keptFiles(dir, j), files);
    if (j.step === 'activating') await this.reactivateOld(files, []);
    dropJournal(dir);
    this.set.o.log.warn(
      { target: j.target, files },
      `${j.target}: an interrupted apply was undone; previous files restored`,
    );
    return { target: j.target, action: 'restored', files };
  }

  private version(v: number): VersionRecord<S> {
    return this.versions.record(v);
  }

  /** Recorded versions, newest first. */
  history(): VersionInfo[] {
    return this.versions.history();
  }

  /** Redacted diff between two versions, or between a version and the files on disk now. */
  async diff(from: number, to?: number): Promise<FileDiff[]> {
    const a = this.version(from);
    const b: Record<string, string> = {};
    if (to !== undefined) Object.assign(b, this.version(to).files);
    else {
      const paths = new Set([...Object.keys(a.files), ...(this.head()?.paths ?? [])]);
      for (const [p, text] of await readFiles(paths)) if (text !== undefined) b[p] = this.redact(text, p);
    }
    const out: FileDiff[] = [];
    for (const p of [...new Set([...Object.keys(a.files), ...Object.keys(b)])].sort()) {
      if (a.files[p] === b[p]) continue;
      out.push({
        path: p,
        diff: createPatch(
          p,
          a.files[p] ?? '',
          b[p] ?? '',
          `v${from}`,
          to !== undefined ? `v${to}` : 'current',
        ),
      });
    }
    return out;
  }

  /** The desired state of an earlier version. */
  versionState(v: number): S {
    return this.versions.stateOf(v);
  }

  /** Bring an earlier version back: its state is rendered and applied like any change. */
  restore(v: number, opts: ApplyOptions): Promise<ApplyResult> {
    const state = this.versionState(v);
    return this.apply(state, { ...opts, summary: opts.summary || `restore version ${v}` });
  }
}
