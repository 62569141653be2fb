/**
 * The tgtadm commands that bring a running tgtd to the desired iSCSI state. Pure: desired
 * state, what tgtd runs (tgtadm show, parsed) and the secrets in; the ordered argv out. The
 * dry run and the real run take their commands from here, against the running state read at
 * that moment, so the plan shown is the one carried out.
 *
 * tgt's model differs from the shared one in three ways the plan spells out:
 * - one ACL per target: no group → `-I ALL`; groups → every group's initiator names bound;
 * - CHAP accounts are global (one password per user): a user used by two targets must carry
 *   one secret; an account is created over tgtd's management socket, never by an argv that
 *   would show its password in /proc (tgt-mgmt.ts); an account is recreated when its secret changed since this agent set it
 *   (tgtd cannot be asked for a password, so the agent keeps a fingerprint of what it set);
 * - LUN 0 is tgt's own controller LUN: target LUNs are numbered from 1;
 * - portals are the daemon's (not per target): missing ones are added, none is removed
 *   (the one tgtd was started with, and sessions on others, stay).
 */
import { createHash } from 'node:crypto';
import { failed, invalid } from '../../rpc/errors.js';
import type { BackingPath, LiveState } from './backend.js';
import * as cmd from './commands.js';
import { chapSecretKey, type IscsiState, type Target } from './model.js';
import type { TgtTarget } from './parse-tgtadm-show.js';
import { portalText, WRITE_THROUGH_MODE_PAGE } from './render-tgt.js';
import { accountNewRequest, type TgtMgmtRequest } from './tgt-mgmt.js';

export interface TgtRunning {
  targets: TgtTarget[];
  accounts: string[];
  portals: string[];
}

export interface TgtPlanOptions {
  control: number;
  backingPath: BackingPath;
  secret(key: string): string | undefined;
  /** user → fingerprint of the secret this agent last set on tgtd */
  applied: ReadonlyMap<string, string>;
}

export interface TgtCommand {
  argv: string[];
  /** argv with any secret replaced (what plans, results and logs show) */
  shown: string[];
  /** an account created with this secret fingerprint once the command succeeds */
  account?: { user: string; fingerprint: string };
  /**
   * Sent over tgtd's management socket instead of running `argv` (tgt-mgmt.ts): the request
   * carries a secret, which must never be an argv element (issue #28 item 8).
   */
  mgmt?: TgtMgmtRequest;
}

export function fingerprint(user: string, secret: string): string {
  return createHash('sha256').update(`${user}\0${secret}`).digest('hex').slice(0, 16);
}

const plain = (argv: string[]): TgtCommand => ({ argv, shown: argv });

/** User names of a target's incoming / outgoing (mutual) accounts as tgtadm show lists them. */
export function tgtAccountsOf(t: TgtTarget): { incoming: string[]; outgoing: string[] } {
  const incoming: string[] = [];
  const outgoing: string[] = [];
  for (const a of t.accounts) {
    const m = /^(\S+) \(outgoing\)$/.exec(a);
    if (m) outgoing.push(m[1]!);
    else incoming.push(a);
  }
  return { incoming, outgoing };
}

const isControllerLun = (l: { lun: number; type: string }) => l.lun === 0 && l.type === 'controller';

/** The running state in the backends' shared shape. */
export function tgtLive(targets: TgtTarget[]): LiveState {
  return {
    targets: targets.map((t) => {
      const acc = tgtAccountsOf(t);
      return {
        iqn: t.iqn,
        tid: t.tid,
        enabled: t.state === 'ready',
        luns: t.luns
          .filter((l) => !isControllerLun(l))
          .map((l) => ({
            lun: l.lun,
            path: l.backingPath,
            blockSize: l.blockSize,
            readonly: l.readonly,
            serial: l.scsiSn,
            naa: l.scsiId,
            sizeBytes: l.sizeMB * 1024 * 1024,
          })),
        initiators: t.acl.filter((a) => a !== 'ALL'),
        allowAll: t.acl.includes('ALL'),
        groups: [],
        chapUsers: acc.incoming,
        mutualUsers: acc.outgoing,
      };
    }),
    sessions: targets.flatMap((t) =>
      t.sessions.map((s) => ({
        target: t.iqn,
        initiator: s.initiator,
        ...(s.address ? { address: s.address } : {}),
      })),
    ),
  };
}

interface WantedAccount {
  user: string;
  secret: string;
  fingerprint: string;
}

/** Every CHAP account the desired state needs, checked for tgt's one-password-per-user rule. */
function wantedAccounts(targets: Target[], o: TgtPlanOptions): Map<string, WantedAccount> {
  const out = new Map<string, WantedAccount & { where: string }>();
  const add = (user: string, key: string, where: string) => {
    const secret = o.secret(key);
    if (secret === undefined)
      throw failed(`the CHAP secret of ${where} (${key}) is missing from secrets.env; set CHAP again`, {
        key,
      });
    const prev = out.get(user);
    if (prev && prev.secret !== secret)
      throw invalid(
        `CHAP user ${user} is used by ${prev.where} and ${where} with different secrets; tgt keeps one password per user`,
        { user },
      );
    out.set(user, { user, secret, fingerprint: fingerprint(user, secret), where });
  };
  for (const t of targets) {
    if (!t.chap) continue;
    add(t.chap.user, chapSecretKey(t.tid), t.iqn);
    if (t.chap.mutualUser) add(t.chap.mutualUser, chapSecretKey(t.tid, true), `${t.iqn} (mutual)`);
  }
  return out;
}

export function planTgt(desired: IscsiState, running: TgtRunning, o: TgtPlanOptions): TgtCommand[] {
  const c = o.control;
  const want = desired.targets.filter((t) => t.enabled).sort((a, b) => a.tid - b.tid);
  for (const t of want)
    for (const l of t.luns)
      if (l.lun === 0)
        throw invalid(`${t.iqn}: tgt keeps LUN 0 for its controller; number the target's LUNs from 1`, {
          target: t.iqn,
        });
  const wantByIqn = new Map(want.map((t) => [t.iqn, t]));
  const out: TgtCommand[] = [];

  // 1. targets that should not run, or run under another number
  const kept = new Map<string, TgtTarget>();
  for (const r of running.targets) {
    const w = wantByIqn.get(r.iqn);
    if (w && w.tid === r.tid) kept.set(r.iqn, r);
    else out.push(plain(cmd.targetDelete(c, r.tid)));
  }

  // 2. accounts: missing ones created, ones whose secret changed recreated (which unbinds them)
  const accounts = wantedAccounts(want, o);
  const recreated = new Set<string>();
  const runningAccounts = new Set(running.accounts);
  for (const a of accounts.values()) {
    const exists = runningAccounts.has(a.user);
    if (exists && o.applied.get(a.user) === a.fingerprint) continue;
    if (exists) {
      out.push(plain(cmd.accountDelete(c, a.user)));
      recreated.add(a.user);
    }
    const shown = cmd.accountNewShown(c, a.user);
    out.push({
      argv: shown,
      shown,
      account: { user: a.user, fingerprint: a.fingerprint },
      mgmt: accountNewRequest(a.user, a.secret),
    });
  }

  // 3. each target: created or corrected
  for (const t of want) {
    const r = kept.get(t.iqn);
    if (!r) out.push(plain(cmd.targetNew(c, t.tid, t.iqn)));
    const runLuns = new Map((r?.luns ?? []).filter((l) => !isControllerLun(l)).map((l) => [l.lun, l]));
    for (const l of [...t.luns].sort((a, b) => a.lun - b.lun)) {
      const x = runLuns.get(l.lun);
      runLuns.delete(l.lun);
      const path = o.backingPath(l);
      const same =
        x &&
        x.backingPath === path &&
        x.blockSize === l.blockSize &&
        x.scsiSn === l.serial &&
        x.scsiId === l.naa;
      if (same) {
        if (x.readonly !== l.readonly)
          out.push(plain(cmd.lunUpdate(c, t.tid, l.lun, `readonly=${l.readonly ? 1 : 0}`)));
        continue;
      }
      if (x) out.push(plain(cmd.lunDelete(c, t.tid, l.lun)));
      out.push(plain(cmd.lunNew(c, t.tid, l.lun, path, l.blockSize)));
      out.push(plain(cmd.lunParams(c, t.tid, l.lun, l.serial, l.naa, l.readonly)));
      if (l.cache === 'write-through')
        out.push(plain(cmd.lunUpdate(c, t.tid, l.lun, WRITE_THROUGH_MODE_PAGE)));
    }
    for (const x of runLuns.values()) out.push(plain(cmd.lunDelete(c, t.tid, x.lun)));

    // ACL: ALL, or the groups' initiator names
    const names = t.groups.flatMap((g) => g.initiators);
    const wantAcl = new Set(names.length ? names : ['ALL']);
    const runAcl = new Set(r?.acl ?? []);
    for (const a of runAcl)
      if (!wantAcl.has(a))
        out.push(
          plain(
            a.startsWith('iqn.') || a.startsWith('eui.') || a.startsWith('naa.')
              ? cmd.unbindInitiator(c, t.tid, a)
              : cmd.unbindAddress(c, t.tid, a),
          ),
        );
    for (const a of wantAcl)
      if (!runAcl.has(a))
        out.push(plain(a === 'ALL' ? cmd.bindAddress(c, t.tid, 'ALL') : cmd.bindInitiator(c, t.tid, a)));

    // CHAP bindings
    const acc = r ? tgtAccountsOf(r) : { incoming: [], outgoing: [] };
    const bindings = (wanted: string[], bound: string[], outgoing: boolean) => {
      for (const u of bound)
        if (!wanted.includes(u) && !recreated.has(u))
          out.push(plain(cmd.accountUnbind(c, t.tid, u, outgoing)));
      for (const u of wanted)
        if (!bound.includes(u) || recreated.has(u)) out.push(plain(cmd.accountBind(c, t.tid, u, outgoing)));
    };
    bindings(t.chap ? [t.chap.user] : [], acc.incoming, false);
    bindings(t.chap?.mutualUser ? [t.chap.mutualUser] : [], acc.outgoing, true);
  }

  // 4. accounts nothing uses any more
  for (const u of running.accounts) if (!accounts.has(u)) out.push(plain(cmd.accountDelete(c, u)));

  // 5. portals the targets name that tgtd does not listen on yet
  const runPortals = new Set(running.portals);
  const added = new Set<string>();
  for (const t of want)
    for (const p of t.portals) {
      const text = portalText(p);
      const wildcard = runPortals.has(`0.0.0.0:${p.port}`) || runPortals.has(`[::]:${p.port}`);
      if (runPortals.has(text) || added.has(text) || wildcard) continue;
      added.add(text);
      out.push(plain(cmd.portalNew(c, text)));
    }
  return out;
}
