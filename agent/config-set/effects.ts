/**
 * The side effects of one change, journaled: commands that must run before a target's files
 * (a zvol created for a LUN) and the secrets the change writes. Before each effect runs, the
 * journal records it with its undo; before secrets are written, it records their previous
 * values. A change that fails is undone from memory; a change a crash cut short is undone at
 * start from the journal (`<journalDir>/<target>.effects.json`), unless its version committed.
 *
 * At start every journaled effect is undone, also one cut short while running (its command may
 * have done its work before the agent died); its undo must therefore be safe to run when the
 * effect never happened (it fails and is logged).
 *
 * Undo order: secrets first, then (by the caller) the files, then the effects in reverse — a
 * zvol is destroyed only after no configuration refers to it any more.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Runner } from '../runner.js';
import type { SecretChange, SecretStore } from '../secrets.js';
import type { Effect, EffectsJournal } from './types.js';

export interface EffectsDeps {
  journalDir: string;
  runner: Runner;
  log: Logger;
  secrets?: SecretStore;
}

export function effectsFile(journalDir: string, target: string): string {
  return path.join(journalDir, `${target}.effects.json`);
}

/** One change's effects in flight. */
export class EffectsRun {
  private j: EffectsJournal;
  private file: string;

  constructor(
    private d: EffectsDeps,
    target: string,
    nextVersion: number,
    time: string,
  ) {
    this.file = effectsFile(d.journalDir, target);
    this.j = { target, nextVersion, effects: [], secrets: [], time };
  }

  private save(): Promise<void> {
    return writeFileAtomic(this.file, JSON.stringify(this.j), { mode: 0o600 });
  }

  /** Run one effect, journaled before it starts. */
  async run(e: Effect): Promise<void> {
    const rec = { argv: e.argv, ...(e.undo ? { undo: e.undo } : {}), done: false };
    this.j.effects.push(rec);
    await this.save();
    await this.d.runner.run(e.argv, { timeoutMs: e.timeoutMs ?? 60_000 });
    rec.done = true;
    await this.save();
  }

  /** Write secrets, their previous values journaled first. */
  async writeSecrets(changes: SecretChange[]): Promise<void> {
    if (!changes.length) return;
    const store = this.d.secrets;
    if (!store)
      throw new Error(`config-set ${this.j.target}: a change carries secrets, but no store was given`);
    // the journal holds the previous values only (secrets.env's own mode: 0600)
    const seen = new Set(this.j.secrets.map((s) => s.key));
    for (const c of changes)
      if (!seen.has(c.key)) this.j.secrets.push({ key: c.key, value: store.get(c.key) });
    await this.save();
    await store.update(changes);
  }

  /** The change failed: put everything back (best effort, each failure logged). */
  async undo(): Promise<void> {
    await undoSecrets(this.d, this.j);
    // an effect that failed did nothing to undo (a `zfs create` refused: the zvol is not ours)
    await undoEffects(this.d, { ...this.j, effects: this.j.effects.filter((e) => e.done) });
    await this.finish();
  }

  /** The change committed (or changed nothing): forget the journal. */
  finish(): Promise<void> {
    return rm(this.file, { force: true });
  }
}

export async function readEffectsJournal(file: string): Promise<EffectsJournal | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as EffectsJournal;
  } catch {
    // none, or one whose first write was cut short (nothing had run yet)
    return undefined;
  }
}

export async function undoSecrets(d: EffectsDeps, j: EffectsJournal): Promise<void> {
  if (!j.secrets.length || !d.secrets) return;
  try {
    await d.secrets.update(j.secrets);
  } catch (err) {
    d.log.error({ err, target: j.target }, `${j.target}: putting secrets.env back failed`);
  }
}

export async function undoEffects(d: EffectsDeps, j: EffectsJournal): Promise<void> {
  for (const e of [...j.effects].reverse()) {
    if (!e.undo) continue;
    try {
      await d.runner.run(e.undo, { timeoutMs: 120_000 });
    } catch (err) {
      d.log.error({ err, target: j.target, argv: e.undo }, `${j.target}: undoing ${e.argv.join(' ')} failed`);
    }
  }
}
