/**
 * The LDAP directory for shares: its desired state (where the server is, where users and groups
 * are, who binds; the directory groups that grant Calypso roles) and the pure rendering of
 * sssd.conf's [domain/calypso] from it. The bind password is never part of the state: it lives
 * in secrets.env under LDAP_BIND_PASSWORD and reaches only the rendered sssd.conf (mode 0600),
 * which diffs and history show redacted. Every string that reaches sssd.conf is held to a
 * pattern here, so a client cannot add a line, a section or an option.
 */

import { type Static, Type } from '@sinclair/typebox';
import { DOMAIN_NAME } from './directory-ad-users.js';

export const LDAP_SECRET_KEY = 'LDAP_BIND_PASSWORD';
export const SSSD_DOMAIN = 'calypso';

/** ldap:// or ldaps://, a host name or an IPv4/[IPv6] address, an optional port, nothing after the slash. */
export const LDAP_URI =
  '^ldaps?://([A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*|\\[[0-9A-Fa-f:.]{2,45}\\])(:[0-9]{1,5})?/?$';
/** A DN of plain attribute=value parts (no escapes, quotes or multi-valued RDNs). */
const RDN = '[A-Za-z][A-Za-z0-9-]{0,30}=[A-Za-z0-9_.@ -]{1,64}';
export const LDAP_DN = `^${RDN}(,${RDN}){0,15}$`;
/** A directory group's name (its cn) as NSS reports it. */
export const DIRECTORY_GROUP = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$';

export const LdapUriSchema = Type.String({
  pattern: LDAP_URI,
  maxLength: 300,
  description: 'the server: ldap://host[:port]/ or ldaps://host[:port]/',
});
export const DnSchema = Type.String({
  pattern: LDAP_DN,
  maxLength: 512,
  description: 'a distinguished name (attribute=value parts separated by commas)',
});
export const BindPasswordSchema = Type.String({
  pattern: '^[\\x21-\\x7e]{1,128}$',
  description: 'the bind DN’s password (printable, no spaces); kept in secrets.env only, never shown',
});
export const DirectoryGroupSchema = Type.String({
  pattern: `(${DIRECTORY_GROUP})|(${DOMAIN_NAME})`,
  description:
    'a directory group’s name: an LDAP group’s cn, or DOMAIN\\name for an Active Directory group (through winbind)',
});
export const CalypsoRoleSchema = Type.Union(
  [Type.Literal('admin'), Type.Literal('operator'), Type.Literal('auditor')],
  { description: 'the Calypso role its members get (admin ⊃ operator ⊃ auditor)' },
);

export const LdapSettingsSchema = Type.Object(
  {
    uri: LdapUriSchema,
    baseDn: DnSchema,
    usersBase: Type.Optional(DnSchema),
    groupsBase: Type.Optional(DnSchema),
    bindDn: DnSchema,
    startTls: Type.Boolean({ description: 'StartTLS on an ldap:// connection (certificate checked)' }),
    caCert: Type.Optional(
      Type.String({
        maxLength: 65_536,
        description: 'the CA (PEM, as the agent re-encoded it) the server’s certificate must chain to',
      }),
    ),
  },
  { additionalProperties: false },
);
export type LdapSettings = Static<typeof LdapSettingsSchema>;

export const RoleGrantSchema = Type.Object(
  { group: DirectoryGroupSchema, role: CalypsoRoleSchema },
  { additionalProperties: false },
);
export type RoleGrant = Static<typeof RoleGrantSchema>;

export interface DirectoryState {
  ldap?: LdapSettings;
  roles: RoleGrant[];
}

export const EMPTY_DIRECTORY: DirectoryState = { roles: [] };

/** The state's problems in plain words (none: it may be applied). */
export function checkDirectory(s: DirectoryState): string[] {
  const out: string[] = [];
  const l = s.ldap;
  if (l) {
    if (l.uri.startsWith('ldaps://') && l.startTls)
      out.push('StartTLS is for ldap:// (an ldaps:// connection is encrypted from the start)');
    const port = /:(\d+)\/?$/.exec(l.uri.replace(/^ldaps?:\/\/\[[^\]]*\]/, ''))?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
      out.push(`${l.uri}: the port must be 1–65535`);
    const under = (dn: string) => dn.toLowerCase().endsWith(l.baseDn.toLowerCase());
    if (l.usersBase && !under(l.usersBase))
      out.push(`the users base ${l.usersBase} is not under ${l.baseDn}`);
    if (l.groupsBase && !under(l.groupsBase))
      out.push(`the groups base ${l.groupsBase} is not under ${l.baseDn}`);
  }
  const seen = new Set<string>();
  for (const g of s.roles) {
    if (seen.has(g.group)) out.push(`the group ${g.group} is mapped twice`);
    seen.add(g.group);
  }
  return out;
}

/** Where to look for users and for groups (the base DN when no narrower base is set). */
export const usersBaseOf = (l: LdapSettings) => l.usersBase ?? l.baseDn;
export const groupsBaseOf = (l: LdapSettings) => l.groupsBase ?? l.baseDn;

/**
 * sssd.conf for the one domain `calypso` (sssd-ldap(5)): RFC 2307 users and groups (posixAccount
 * uid/uidNumber, posixGroup memberUid), ids as the directory has them (no id mapping, so the
 * gids NSS reports are the directory's gidNumber and the role mapping can name them), the
 * password of the bind DN inline (the file is 0600, root's; sssd has no other simple-bind source).
 */
export function renderSssdConf(l: LdapSettings, password: string | undefined, caFile?: string): string {
  const lines = [
    '# Generated by calypso-agent from its desired state (shares.directory.ldap.set); do not edit.',
    '[sssd]',
    'services = nss, pam',
    `domains = ${SSSD_DOMAIN}`,
    '',
    `[domain/${SSSD_DOMAIN}]`,
    'id_provider = ldap',
    'auth_provider = ldap',
    'ldap_schema = rfc2307',
    'ldap_id_mapping = false',
    `ldap_uri = ${l.uri}`,
    `ldap_search_base = ${l.baseDn}`,
    `ldap_user_search_base = ${usersBaseOf(l)}`,
    `ldap_group_search_base = ${groupsBaseOf(l)}`,
    `ldap_default_bind_dn = ${l.bindDn}`,
    'ldap_default_authtok_type = password',
    `ldap_default_authtok = ${password ?? ''}`,
    `ldap_id_use_start_tls = ${l.startTls ? 'true' : 'false'}`,
    'ldap_tls_reqcert = demand',
    ...(l.caCert && caFile ? [`ldap_tls_cacert = ${caFile}`] : []),
    'enumerate = false',
    'cache_credentials = false',
    '',
  ];
  return lines.join('\n');
}

/** The rendered file with its password hidden (plans, diffs, history). */
export const redactSssdConf = (text: string) =>
  text.replace(/^(ldap_default_authtok\s*=\s*).+$/gm, '$1********');
