/**
 * Directory groups → Calypso roles: a mapping (group name → admin / operator / auditor) kept in
 * the directory's desired state, changed by audited methods with a dry run, and handed to the
 * identity layer as group ids (`Service.gidRoles`). A Unix-socket peer's groups are the ones the
 * kernel holds for it — in production those NSS (sssd) gave at login — so a member of a mapped
 * LDAP group gets the role without any /etc/group entry. The group's gid is the directory's own
 * gidNumber (sssd.conf has no id mapping), as the last search read it.
 */
import { Type } from '@sinclair/typebox';
import { notFound } from '../../rpc/errors.js';
import type { GidRole } from '../../rpc/identity.js';
import type { AnyMethodDef } from '../../rpc/registry.js';
import { mutation, resourceMethods } from '../config-set/resource.js';
import type { LdapDirectory } from './directory-ldap.js';
import type { DirectoryGroup } from './directory-ldap-client.js';
import { CalypsoRoleSchema, DirectoryGroupSchema, type RoleGrant } from './directory-ldap-model.js';
import { ApplyResult } from './methods-shares.js';

const RoleItem = Type.Object({
  group: DirectoryGroupSchema,
  role: CalypsoRoleSchema,
  gid: Type.Optional(
    Type.Integer({ description: 'the group’s gid as the directory last answered (none: not found there)' }),
  ),
});

/** The grants whose group the directory knows, as gids. */
export function gidRolesOf(grants: RoleGrant[], groups: DirectoryGroup[]): GidRole[] {
  const byName = new Map(groups.map((g) => [g.name, g.gid]));
  return grants.flatMap((g) => {
    const gid = byName.get(g.group);
    return gid === undefined ? [] : [{ gid, role: g.role, via: `directory group ${g.group}` }];
  });
}

/** The directories' groups a role may name: the LDAP directory's, and AD groups through winbind. */
export interface RoleGroups {
  /** the groups last read (LDAP search, winbind) */
  groups(): DirectoryGroup[];
  /** read a group again (an AD group through winbind) after a mapping names it */
  refresh(name: string): Promise<void>;
}

export function directoryRoleMethods(dir: LdapDirectory, known: RoleGroups): AnyMethodDef[] {
  const state = () => dir.managed.state();
  const items = () => {
    const byName = new Map(known.groups().map((g) => [g.name, g.gid]));
    return state().roles.map((r) => {
      const gid = byName.get(r.group);
      return { ...r, ...(gid !== undefined ? { gid } : {}) };
    });
  };
  return resourceMethods({
    prefix: 'shares.directory.role',
    listSummary: 'Directory groups whose members get a Calypso role, with the gid the directory gave',
    label: 'role mapping',
    item: RoleItem,
    list: () => items(),
    key: { field: 'group', schema: DirectoryGroupSchema },
    mutations: {
      set: mutation({
        summary: 'Give the members of a directory group a Calypso role (admin, operator or auditor)',
        params: Type.Object(
          { group: DirectoryGroupSchema, role: CalypsoRoleSchema },
          { additionalProperties: false },
        ),
        result: ApplyResult,
        handler: async (p, ctx) => {
          await known.refresh(p.group);
          const gid = known.groups().find((g) => g.name === p.group)?.gid;
          if (gid !== undefined) ctx.auditDetail?.({ gid });
          return (await dir.change(ctx, `shares.directory.role.set ${p.group} ${p.role}`, (cur) => ({
            state: {
              ...cur,
              roles: [...cur.roles.filter((r) => r.group !== p.group), { group: p.group, role: p.role }].sort(
                (a, b) => a.group.localeCompare(b.group),
              ),
            },
          }))) as never;
        },
      }),
      delete: mutation({
        summary: 'Take a directory group’s role away',
        params: Type.Object({ group: DirectoryGroupSchema }, { additionalProperties: false }),
        result: ApplyResult,
        handler: async (p, ctx) =>
          (await dir.change(ctx, `shares.directory.role.delete ${p.group}`, (cur) => {
            if (!cur.roles.some((r) => r.group === p.group))
              throw notFound(`the group ${p.group} has no role`, { group: p.group });
            return { state: { ...cur, roles: cur.roles.filter((r) => r.group !== p.group) } };
          })) as never,
      }),
    },
  });
}
