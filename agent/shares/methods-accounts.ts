/**
 * Local users and groups for shares: the account (useradd or nss_wrapper's files, accounts.ts)
 * and the SMB password in Samba's passdb (`pdbedit -a -t`, the password on stdin). The agent
 * never stores, logs or audits a password: it is a secret parameter (redacted in the audit
 * record) and reaches pdbedit only on its standard input.
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { conflict, invalid, notFound } from '../../rpc/errors.js';
import { listed, listResult } from '../../rpc/list.js';
import { type AnyMethodDef, type CallContext, type DryRunPlan, defineMethod } from '../../rpc/registry.js';
import type { AccountDb, AccountOp } from './accounts.js';
import type { SharesMethodsContext } from './methods-shares.js';
import { AccountNameSchema } from './model.js';

const Password = Type.String({
  minLength: 8,
  maxLength: 128,
  pattern: '^[^\\u0000-\\u001f]+$',
  description: 'SMB password, 8–128 characters, no control characters; never stored by the agent',
});

const OpsResult = Type.Object({
  commands: Type.Array(Type.Array(Type.String()), { description: 'argv run, or the account file edits' }),
  notes: Type.Array(Type.String()),
});

export interface AccountsContext extends SharesMethodsContext {
  /** smb.conf, for pdbedit -s */
  conf: string;
}

const LOCK = 'accounts:local';

export function accountMethods(sc: AccountsContext): AnyMethodDef[] {
  const timeoutMs = sc.cfg.commandTimeoutSec * 1000;
  const pdbedit = (...args: string[]) => ['pdbedit', '-s', sc.conf, ...args];
  const inRange = (id: number) => id >= sc.cfg.accounts.uidMin && id <= sc.cfg.accounts.uidMax;

  /** Plan (dry run) or carry out the operations, under one lock for the account database. */
  async function perform(
    ctx: CallContext,
    build: (
      db: AccountDb,
    ) => { ops: AccountOp[]; notes?: string[] } | Promise<{ ops: AccountOp[]; notes?: string[] }>,
  ): Promise<{ commands: string[][]; notes: string[] } | DryRunPlan> {
    return sc.deps.locks.run(LOCK, 'local account change', async () => {
      const b = await build(await sc.accounts().read());
      const commands = b.ops.map((o) => o.shown);
      if (ctx.dryRun) return { dryRun: true as const, commands, notes: b.notes ?? [] };
      for (const o of b.ops) await o.run();
      return { commands, notes: b.notes ?? [] };
    });
  }

  const runOp = (argv: string[], input?: string): AccountOp => ({
    shown: argv,
    run: async () => {
      await sc.deps.runner.run(argv, {
        timeoutMs,
        env: sc.accounts().env,
        ...(input !== undefined ? { input } : {}),
      });
    },
  });
  /** pdbedit reads the new password twice from stdin with -t */
  const setPassword = (name: string, pw: string) => runOp(pdbedit('-a', '-t', '-u', name), `${pw}\n${pw}\n`);

  function nextId(db: AccountDb): number {
    const used = new Set([...db.users.map((u) => u.uid), ...db.groups.map((g) => g.gid)]);
    for (let id = sc.cfg.accounts.uidMin; id <= sc.cfg.accounts.uidMax; id++) if (!used.has(id)) return id;
    throw conflict('no free user id left in the shares accounts range (uidMin–uidMax)', {});
  }

  async function smbUsers(): Promise<Set<string>> {
    try {
      const r = await sc.deps.runner.run(pdbedit('-L'), {
        timeoutMs,
        env: sc.accounts().env,
        okCodes: [0, 255],
      });
      return new Set(r.stdout.split('\n').flatMap((l) => (l.includes(':') ? [l.split(':')[0]!] : [])));
    } catch {
      return new Set();
    }
  }

  /** A share user by name (its uid in the accounts range), else not found. */
  function shareUser(db: AccountDb, name: string) {
    const u = db.users.find((x) => x.name === name);
    if (!u || !inRange(u.uid)) throw notFound(`no share user ${name}`, { name });
    return u;
  }

  /**
   * One account change as a method record: admin, mutating, answering the operations run (or,
   * for a dry run, planned) under the account lock; `samba` when it needs pdbedit.
   */
  function accountChange<P extends TObject>(m: {
    name: string;
    summary: string;
    params: P;
    samba?: boolean;
    secretParams?: string[];
    build: (p: Static<P>, db: AccountDb) => { ops: AccountOp[]; notes?: string[] };
  }): AnyMethodDef {
    return defineMethod({
      name: m.name,
      summary: m.summary,
      params: m.params,
      result: OpsResult,
      role: 'admin',
      mutating: true,
      ...(m.secretParams ? { secretParams: m.secretParams } : {}),
      ...(m.samba ? { requires: ['samba'] } : {}),
      handler: async (p, ctx) => (await perform(ctx, (db) => m.build(p, db))) as never,
    });
  }

  return [
    defineMethod({
      name: 'shares.user.list',
      summary:
        'Local share users (ids in the configured account range), their groups and whether they have an SMB password',
      params: Type.Object({}, { additionalProperties: false }),
      result: listResult(
        Type.Object({
          name: Type.String(),
          uid: Type.Integer(),
          groups: Type.Array(Type.String()),
          smb: Type.Boolean({ description: 'has an SMB password in the passdb' }),
        }),
      ),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        const db = await sc.accounts().read();
        const smb = await smbUsers();
        return listed(
          db.users
            .filter((u) => inRange(u.uid))
            .map((u) => ({
              name: u.name,
              uid: u.uid,
              groups: db.groups
                .filter((g) => g.gid === u.gid || g.members.includes(u.name))
                .map((g) => g.name),
              smb: smb.has(u.name),
            })),
        );
      },
    }),
    accountChange({
      name: 'shares.user.create',
      summary:
        'Create a local user for shares (no home, no login shell) with its own group and an SMB password',
      params: Type.Object(
        {
          name: AccountNameSchema,
          password: Password,
          groups: Type.Optional(Type.Array(AccountNameSchema, { maxItems: 64, description: 'more groups' })),
        },
        { additionalProperties: false },
      ),
      samba: true,
      secretParams: ['password'],
      build: (p, db) => {
        if (db.users.some((u) => u.name === p.name))
          throw conflict(`user ${p.name} already exists`, { name: p.name });
        if (db.groups.some((g) => g.name === p.name))
          throw conflict(`a group named ${p.name} exists already (each user gets a group of its name)`, {
            name: p.name,
          });
        const missing = (p.groups ?? []).filter((g) => !db.groups.some((x) => x.name === g));
        if (missing.length) throw invalid(`no such group: ${missing.join(', ')}`, { groups: missing });
        const id = nextId(db);
        const a = sc.accounts();
        return {
          ops: [
            a.addGroup({ name: p.name, gid: id }),
            a.addUser({ name: p.name, uid: id, gid: id, groups: p.groups ?? [] }),
            setPassword(p.name, p.password),
          ],
          notes: ['the password goes to pdbedit on its standard input only'],
        };
      },
    }),
    accountChange({
      name: 'shares.user.password',
      summary: 'Set a share user’s SMB password (pdbedit; the password on stdin, never stored)',
      params: Type.Object({ name: AccountNameSchema, password: Password }, { additionalProperties: false }),
      samba: true,
      secretParams: ['password'],
      build: (p, db) => {
        shareUser(db, p.name);
        return { ops: [setPassword(p.name, p.password)] };
      },
    }),
    accountChange({
      name: 'shares.user.groups',
      summary:
        'Set the groups a share user belongs to besides its own (replaces the list; an empty list leaves only its own group)',
      params: Type.Object(
        {
          name: AccountNameSchema,
          groups: Type.Array(AccountNameSchema, { maxItems: 64, description: 'the groups, besides its own' }),
        },
        { additionalProperties: false },
      ),
      build: (p, db) => {
        const u = shareUser(db, p.name);
        const missing = p.groups.filter((g) => !db.groups.some((x) => x.name === g));
        if (missing.length) throw invalid(`no such group: ${missing.join(', ')}`, { groups: missing });
        const own = db.groups.find((g) => g.gid === u.gid)?.name;
        const wanted = [...new Set(p.groups.filter((g) => g !== own))];
        return { ops: [sc.accounts().setGroups(p.name, wanted)] };
      },
    }),
    defineMethod({
      name: 'shares.user.delete',
      summary: 'Delete a share user: its SMB password, its account and its own group (files it owns stay)',
      params: Type.Object({ name: AccountNameSchema }, { additionalProperties: false }),
      result: OpsResult,
      role: 'admin',
      mutating: true,
      requires: ['samba'],
      handler: async (p, ctx) => {
        const smb = await smbUsers();
        return (await perform(ctx, (db) => {
          const u = shareUser(db, p.name);
          const own = db.groups.find((g) => g.name === p.name && g.gid === u.gid);
          const a = sc.accounts();
          return {
            ops: [
              ...(smb.has(p.name) ? [runOp(pdbedit('-x', '-u', p.name))] : []),
              a.delUser(p.name),
              ...(own ? [a.delGroup(own.name)] : []),
            ],
          };
        })) as never;
      },
    }),
    defineMethod({
      name: 'shares.group.list',
      summary: 'Local share groups (ids in the configured account range) and their members',
      params: Type.Object({}, { additionalProperties: false }),
      result: listResult(
        Type.Object({ name: Type.String(), gid: Type.Integer(), members: Type.Array(Type.String()) }),
      ),
      role: 'auditor',
      mutating: false,
      handler: async () => {
        const db = await sc.accounts().read();
        return listed(
          db.groups
            .filter((g) => inRange(g.gid))
            .map((g) => ({
              name: g.name,
              gid: g.gid,
              members: [
                ...new Set([...g.members, ...db.users.filter((u) => u.gid === g.gid).map((u) => u.name)]),
              ],
            })),
        );
      },
    }),
    accountChange({
      name: 'shares.group.create',
      summary: 'Create a local group for shares (members join with shares.user.create groups)',
      params: Type.Object({ name: AccountNameSchema }, { additionalProperties: false }),
      build: (p, db) => {
        if (db.groups.some((g) => g.name === p.name) || db.users.some((u) => u.name === p.name))
          throw conflict(`${p.name} exists already`, { name: p.name });
        return { ops: [sc.accounts().addGroup({ name: p.name, gid: nextId(db) })] };
      },
    }),
    accountChange({
      name: 'shares.group.delete',
      summary: 'Delete a local share group (refused while a share names it in valid groups)',
      params: Type.Object({ name: AccountNameSchema }, { additionalProperties: false }),
      build: (p, db) => {
        const g = db.groups.find((x) => x.name === p.name);
        if (!g || !inRange(g.gid)) throw notFound(`no share group ${p.name}`, { name: p.name });
        const users = sc
          .state()
          .shares.filter((s) => s.validGroups.includes(p.name))
          .map((s) => s.name);
        if (users.length)
          throw conflict(`group ${p.name} is a valid group of share(s) ${users.join(', ')}`, {
            shares: users,
          });
        if (db.users.some((u) => u.gid === g.gid))
          throw conflict(`group ${p.name} is a user's own group; delete the user`, { name: p.name });
        return { ops: [sc.accounts().delGroup(p.name)] };
      },
    }),
  ] as AnyMethodDef[];
}
