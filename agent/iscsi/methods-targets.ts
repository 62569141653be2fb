/** iSCSI target methods: list, create, update, delete, CHAP set and clear. */
import { type Static, Type } from '@sinclair/typebox';
import { conflict } from '../../rpc/errors.js';
import type { AnyMethodDef, CallContext } from '../../rpc/registry.js';
import type { planOf } from '../config-set/change.js';
import type { Change } from '../config-set/index.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import type { AgentDeps } from '../deps.js';
import {
  ApplyResult,
  type ApplyResultT,
  ChapInput,
  type ChapInputT,
  IqnRef,
  TargetView,
} from './api-schemas.js';
import type { LiveState } from './backend.js';
import type { IscsiConfig } from './config.js';
import { type IscsiState, PortalSchema, type Target, TOKEN } from './model.js';
import { IqnSchema } from './names.js';

/** The next state of the committed one; throws to refuse. */
export type IscsiUpdater = (current: IscsiState) => Change<IscsiState> | Promise<Change<IscsiState>>;

/** What the target, LUN and group methods use of the iSCSI service (service.ts builds it). */
export interface IscsiMethodsContext {
  deps: AgentDeps;
  cfg: IscsiConfig;
  state(): IscsiState;
  /**
   * One change: `fn` makes the next desired state of the committed one (with the secrets and
   * side effects it brings) inside the pipeline's lock; it is checked, then planned (dry run)
   * or applied.
   */
  change(
    ctx: CallContext,
    summary: string,
    fn: IscsiUpdater,
  ): Promise<ApplyResultT | ReturnType<typeof planOf>>;
  findTarget(s: IscsiState, iqn: string): Target;
  withTarget(s: IscsiState, iqn: string, fn: (t: Target) => Target): IscsiState;
  chapSecrets(tid: number, chap: ChapInputT | undefined): { key: string; value: string | undefined }[];
  checkPortals(portals: { address: string; port: number }[]): void;
  sessionsOf(iqn: string, lun?: number): Promise<{ initiator: string }[]>;
  liveOrUndefined(): Promise<LiveState | undefined>;
  view(t: Target, live: LiveState | undefined): Static<typeof TargetView>;
  /** the backend this change goes to (tgt keeps LUN 0 for its controller) */
  backendName(): Promise<string | undefined>;
  /** the next configuration version, which makes a new LUN's identity unique */
  identityNonce(): string;
}

export function targetMethods(ic: IscsiMethodsContext): AnyMethodDef[] {
  return resourceMethods({
    prefix: 'iscsi.target',
    listSummary: 'Targets as desired, with LUNs, groups, CHAP users (never secrets) and session counts',
    label: 'iSCSI target',
    item: TargetView,
    list: async () => {
      const live = await ic.liveOrUndefined();
      return ic.state().targets.map((t) => ic.view(t, live));
    },
    mutations: {
      create: mutation({
        summary: 'Create a target (IQN, alias, portals, optional CHAP); dryRun shows files and argv',
        params: Type.Object(
          {
            iqn: IqnSchema,
            alias: Type.Optional(
              Type.String({ pattern: TOKEN, description: 'a short name shown beside the IQN' }),
            ),
            portals: Type.Optional(
              Type.Array(PortalSchema, {
                maxItems: 16,
                description: 'address:port pairs of this machine (default: iscsi.defaultPortal)',
              }),
            ),
            chap: Type.Optional({
              ...ChapInput,
              description: 'CHAP user and secret (and mutual); secrets go to secrets.env only',
            }),
            enabled: Type.Optional(Type.Boolean({ description: 'exported now (default true)' })),
          },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        secretParams: ['chap'],
        handler: async (p, ctx) => {
          const portals = p.portals ?? (ic.cfg.defaultPortal ? [ic.cfg.defaultPortal] : []);
          ic.checkPortals(portals);
          return ic.change(ctx, `iscsi target ${p.iqn} created`, (s) => {
            if (s.targets.some((t) => t.iqn === p.iqn))
              throw conflict(`iSCSI target ${p.iqn} already exists`, { iqn: p.iqn });
            const tid = s.targets.reduce((m, t) => Math.max(m, t.tid), 0) + 1;
            const t: Target = {
              tid,
              iqn: p.iqn,
              ...(p.alias ? { alias: p.alias } : {}),
              portals,
              luns: [],
              groups: [],
              ...(p.chap
                ? {
                    chap: {
                      user: p.chap.user,
                      ...(p.chap.mutualUser ? { mutualUser: p.chap.mutualUser } : {}),
                    },
                  }
                : {}),
              enabled: p.enabled ?? true,
            };
            return {
              state: { targets: [...s.targets, t] },
              secrets: p.chap ? ic.chapSecrets(tid, p.chap) : [],
            };
          });
        },
      }),
      update: mutation({
        summary: 'Change a target’s alias, portals or enabled state',
        params: Type.Object(
          {
            iqn: IqnSchema,
            set: Type.Object(
              {
                alias: Type.Optional(Type.String({ pattern: TOKEN })),
                portals: Type.Optional(Type.Array(PortalSchema, { maxItems: 16 })),
                enabled: Type.Optional(Type.Boolean()),
              },
              { additionalProperties: false, description: 'the fields to change' },
            ),
          },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        handler: async (p, ctx) => {
          if (p.set.portals) ic.checkPortals(p.set.portals);
          return ic.change(ctx, `iscsi target ${p.iqn} updated`, (s) => {
            ic.findTarget(s, p.iqn);
            return { state: ic.withTarget(s, p.iqn, (t) => ({ ...t, ...p.set })) };
          });
        },
      }),
      delete: mutation({
        summary: 'Remove a target (its LUNs’ zvols and files stay); connected sessions need force',
        params: Type.Object(
          { iqn: IqnSchema, force: Type.Optional(Type.Boolean({ description: 'drop connected sessions' })) },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        handler: async (p, ctx) => {
          ic.findTarget(ic.state(), p.iqn);
          const sessions = await ic.sessionsOf(p.iqn);
          if (sessions.length && !p.force)
            throw conflict(
              `${p.iqn} has ${sessions.length} connected session(s) (${sessions.map((x) => x.initiator).join(', ')}); repeat with force to drop them`,
              { sessions: sessions.map((x) => x.initiator) },
            );
          return ic.change(ctx, `iscsi target ${p.iqn} deleted`, (s) => ({
            state: { targets: s.targets.filter((x) => x.iqn !== p.iqn) },
            secrets: ic.chapSecrets(ic.findTarget(s, p.iqn).tid, undefined),
          }));
        },
      }),
      'chap.set': mutation({
        summary: 'Set a target’s CHAP user and secret (and optionally mutual CHAP)',
        params: Type.Object({ iqn: IqnSchema, ...ChapInput.properties }, { additionalProperties: false }),
        result: ApplyResult,
        secretParams: ['secret', 'mutualSecret'],
        handler: async (p, ctx) => {
          const chap = {
            user: p.user,
            secret: p.secret,
            mutualUser: p.mutualUser,
            mutualSecret: p.mutualSecret,
          };
          return ic.change(ctx, `iscsi target ${p.iqn}: CHAP set`, (s) => ({
            state: ic.withTarget(s, p.iqn, (x) => ({
              ...x,
              chap: { user: p.user, ...(p.mutualUser ? { mutualUser: p.mutualUser } : {}) },
            })),
            secrets: ic.chapSecrets(ic.findTarget(s, p.iqn).tid, chap as ChapInputT),
          }));
        },
      }),
      'chap.clear': mutation({
        summary: 'Remove CHAP from a target (initiators then log in without authentication)',
        params: IqnRef,
        result: ApplyResult,
        handler: async (p, ctx) => {
          return ic.change(ctx, `iscsi target ${p.iqn}: CHAP removed`, (s) => ({
            state: ic.withTarget(s, p.iqn, ({ chap: _c, ...x }) => x),
            secrets: ic.chapSecrets(ic.findTarget(s, p.iqn).tid, undefined),
          }));
        },
      }),
    },
  });
}
