/**
 * File shares: the desired state (one list of shares) and its pure check. Every string that
 * reaches a rendered file (smb.conf, exports) is held to a pattern here, so nothing a client
 * sends can add a line, a section or an option to a daemon's configuration.
 */
import { type Static, Type } from '@sinclair/typebox';
import { SizeSchema } from '../zfs/port.js';
import type { AdState } from './directory-ad-model.js';
import { DOMAIN_NAME, DomainNameSchema, isDomainName } from './directory-ad-users.js';

/** A share's name: its SMB share name and its directory under the shares area. */
export const SHARE_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** Samba's own section names, never a share's. */
export const RESERVED_NAMES = ['global', 'homes', 'printers', 'print$', 'ipc$'];
/** A local user or group name (useradd's rules, lower case). */
export const ACCOUNT_NAME = '^[a-z_][a-z0-9_-]{0,31}$';
/** An IPv4 address or network (a.b.c.d or a.b.c.d/len), or an IPv6 address or network. */
export const HOST_PATTERN =
  '^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}(/([0-9]|[12][0-9]|3[0-2]))?|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))?)$';

/** A Samba list member: a user, or @group (every member of the group). */
export const LIST_MEMBER = '^@?[a-z_][a-z0-9_-]{0,31}$';
/** A domain one, once joined: DOMAIN\\user, or @DOMAIN\\group (every member of the domain group). */
export const DOMAIN_LIST_MEMBER = `^@?${DOMAIN_NAME.slice(1)}`;

/**
 * An NFS client by name (exports(5)): a host name (RFC 1123 labels; the last starts with a letter, so
 * `10.0.0.256` is no name), a wildcard (`*` and `?` inside labels: `*.example.org`, `web?.example.org`),
 * or a netgroup (`@name`). None holds a space, a comma or a parenthesis: nothing an exports line would
 * read as more than a client.
 */
export const HOST_NAME =
  '^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$';
export const HOST_WILDCARD =
  '^(?=.{1,253}$)(?=[^*?]*[*?])(?=.*\\.)([A-Za-z0-9*?]([A-Za-z0-9*?-]{0,61}[A-Za-z0-9*?])?\\.)+[A-Za-z*?]([A-Za-z0-9*?-]{0,61}[A-Za-z0-9*?])?$';
export const NETGROUP = '^@[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$';

export const ShareNameSchema = Type.String({ pattern: SHARE_NAME, description: 'share name' });
export const AccountNameSchema = Type.String({
  pattern: ACCOUNT_NAME,
  description: 'local user or group name',
});
/**
 * Who a share's `validUsers` / `validGroups` name: a local (or LDAP) account, or, once the shares
 * are a member of an Active Directory domain, `DOMAIN\\name` as winbind spells it (smb.conf's
 * `valid users` resolves it through winbind; a name with a space is rendered in double quotes).
 * Neither form holds a quote, a comma, a semicolon, `=`, `%` or a line break: nothing smb.conf's
 * list parser or its `%` substitutions would read as more than one name.
 */
export const ShareMemberSchema = Type.Union([AccountNameSchema, DomainNameSchema], {
  description: 'a local user or group (alice), or a domain one once joined: DOMAIN\\name',
});
/** One member of a share's read or write list: local or, once joined, of the domain. */
export const ListMemberSchema = Type.Union(
  [
    Type.String({ pattern: LIST_MEMBER, description: 'user or @group' }),
    Type.String({ pattern: DOMAIN_LIST_MEMBER, description: 'DOMAIN\\user or @DOMAIN\\group' }),
  ],
  { description: 'user or @group; DOMAIN\\user or @DOMAIN\\group once joined' },
);
export const HostSchema = Type.String({ pattern: HOST_PATTERN, description: 'IPv4/IPv6 address or network' });
export const HostNameSchema = Type.String({ pattern: HOST_NAME, description: 'host name (RFC 1123)' });
/** What may name an NFS client: an address or network, a host name, a wildcard, a netgroup, or *. */
export const NfsHostSchema = Type.Union(
  [
    HostSchema,
    HostNameSchema,
    Type.String({ pattern: HOST_WILDCARD, description: 'wildcard host name: *.example.org' }),
    Type.String({ pattern: NETGROUP, description: 'NIS netgroup: @name' }),
    Type.Literal('*'),
  ],
  { description: 'address, network, host name, wildcard (*.example.org), netgroup (@name), or * (anyone)' },
);

export const Protocol = Type.Union([Type.Literal('smb'), Type.Literal('nfs')]);

/** exports(5) sec= flavours: AUTH_SYS and the three Kerberos levels */
export const NfsSecSchema = Type.Union(
  [Type.Literal('sys'), Type.Literal('krb5'), Type.Literal('krb5i'), Type.Literal('krb5p')],
  {
    description: 'sys: client uids trusted; krb5: Kerberos authentication, krb5i +integrity, krb5p +privacy',
  },
);

export const NfsClientSchema = Type.Object(
  {
    host: NfsHostSchema,
    readOnly: Type.Boolean({ default: false }),
    squash: Type.Union([Type.Literal('root'), Type.Literal('all'), Type.Literal('none')], {
      default: 'root',
      description: 'root: root becomes anonymous (default); all: everyone does; none: trust client uids',
    }),
    anonuid: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967294,
        description: 'the uid squashed users get (default 65534)',
      }),
    ),
    anongid: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4294967294,
        description: 'the gid squashed users get (default 65534)',
      }),
    ),
    sec: Type.Optional(
      Type.Array(NfsSecSchema, {
        minItems: 1,
        maxItems: 4,
        uniqueItems: true,
        description: 'security flavours, in order of preference (default sys)',
      }),
    ),
    sync: Type.Optional(
      Type.Boolean({
        description: 'reply only once writes are on stable storage (default true; false: async)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type NfsClient = Static<typeof NfsClientSchema>;

/** The share options a client may set (create and update). */
export const ShareOptions = {
  description: Type.String({
    pattern: '^[A-Za-z0-9 _.,()-]{0,80}$',
    description: 'a comment shown to clients',
  }),
  protocols: Type.Array(Protocol, {
    minItems: 1,
    maxItems: 2,
    uniqueItems: true,
    description: 'smb, nfs or both',
  }),
  readOnly: Type.Boolean({ description: 'nobody writes through the share' }),
  browseable: Type.Boolean({ description: 'listed to SMB clients' }),
  guest: Type.Boolean({ description: 'SMB: guests (no password) connect as the guest account' }),
  validUsers: Type.Array(ShareMemberSchema, {
    maxItems: 256,
    description:
      'SMB: only these users (and members of validGroups) connect; empty: everyone. DOMAIN\\name: a domain user (after shares.directory.ad.join)',
  }),
  validGroups: Type.Array(ShareMemberSchema, {
    maxItems: 256,
    description:
      'SMB: members of these connect. DOMAIN\\name: a domain group (after shares.directory.ad.join)',
  }),
  readList: Type.Optional(
    Type.Array(ListMemberSchema, {
      maxItems: 256,
      description:
        'SMB: these users (@group: its members) only read, even on a writable share. DOMAIN\\name, @DOMAIN\\group: domain ones (after shares.directory.ad.join)',
    }),
  ),
  writeList: Type.Optional(
    Type.Array(ListMemberSchema, {
      maxItems: 256,
      description:
        'SMB: these users (@group: its members) write, even on a read-only share; wins over readList. DOMAIN\\name, @DOMAIN\\group: domain ones (after shares.directory.ad.join)',
    }),
  ),
  hostsAllow: Type.Array(HostSchema, { maxItems: 256, description: 'SMB: only from these; empty: any' }),
  nfsClients: Type.Array(NfsClientSchema, {
    maxItems: 256,
    description: 'NFS: who mounts, how, with what squash',
  }),
  previousVersions: Type.Boolean({
    description: 'SMB: ZFS snapshots as Windows Previous Versions (shadow_copy2 on .zfs/snapshot)',
  }),
  quota: Type.Union([SizeSchema, Type.Null()], {
    description:
      'the most the share holds: its dataset’s refquota (snapshots not counted); bytes or 10G, 1.5T; null: no quota. Needs a dataset (shares.pool configured)',
  }),
};

export const ShareSchema = Type.Object(
  {
    name: ShareNameSchema,
    /** the directory shared: the dataset's mountpoint under the shares area */
    path: Type.String({ description: 'directory shared' }),
    /** the ZFS dataset made for it, when the share has one */
    dataset: Type.Optional(Type.String()),
    ...ShareOptions,
    quota: Type.Optional(ShareOptions.quota),
  },
  { additionalProperties: false },
);
export type Share = Static<typeof ShareSchema>;

export interface SharesState {
  shares: Share[];
  /** Active Directory membership (shares.directory.ad.join): smb.conf renders security = ads */
  ad?: AdState;
}

export const EMPTY_SHARES: SharesState = { shares: [] };

export const SHARE_DEFAULTS = {
  description: '',
  protocols: ['smb'] as ('smb' | 'nfs')[],
  readOnly: false,
  browseable: true,
  guest: false,
  validUsers: [] as string[],
  validGroups: [] as string[],
  readList: [] as string[],
  writeList: [] as string[],
  hostsAllow: [] as string[],
  nfsClients: [] as NfsClient[],
  previousVersions: false,
};

const MEMBER = new RegExp(LIST_MEMBER);
const DOMAIN_MEMBER = new RegExp(DOMAIN_LIST_MEMBER);

/** The state's problems in plain words (none: it may be applied). */
export function checkShares(s: SharesState): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const sh of s.shares) {
    const key = sh.name.toLowerCase();
    if (seen.has(key)) out.push(`two shares are named ${sh.name} (SMB share names ignore case)`);
    seen.add(key);
    if (RESERVED_NAMES.includes(key)) out.push(`${sh.name} is a name Samba keeps for itself`);
    if (sh.protocols.includes('nfs') && sh.nfsClients.length === 0)
      out.push(`share ${sh.name}: NFS needs at least one client (a host, a network or *)`);
    for (const x of [...(sh.readList ?? []), ...(sh.writeList ?? [])])
      if (!MEMBER.test(x) && !DOMAIN_MEMBER.test(x))
        out.push(`share ${sh.name}: ${JSON.stringify(x)} is not a user or @group`);
    out.push(...domainProblems(sh, s.ad));
    if (sh.guest && (sh.validUsers.length || sh.validGroups.length))
      out.push(`share ${sh.name}: guest access and valid users exclude each other (guests would be refused)`);
  }
  return out;
}

/** The domain names a share's valid users and groups and its read and write lists hold (`DOMAIN\\name`, without `@`). */
export const domainNamesOf = (sh: Share): string[] => [
  ...new Set(
    [
      ...sh.validUsers,
      ...sh.validGroups,
      ...[...(sh.readList ?? []), ...(sh.writeList ?? [])].map((x) => (x.startsWith('@') ? x.slice(1) : x)),
    ].filter(isDomainName),
  ),
];

/** The domain users (not groups) a share names: valid users, and read and write list members without `@`. */
export const domainUsersOf = (sh: Share): string[] =>
  [...sh.validUsers, ...(sh.readList ?? []), ...(sh.writeList ?? [])].filter(isDomainName);

/**
 * A domain name needs a domain: refused on a standalone server (nothing would resolve it) and for a
 * domain other than the one joined (the member's idmap maps that domain only).
 */
function domainProblems(sh: Share, ad: AdState | undefined): string[] {
  const names = domainNamesOf(sh);
  if (!names.length) return [];
  if (!ad)
    return [
      `share ${sh.name}: ${names.join(', ')} ${names.length > 1 ? 'are domain names' : 'is a domain name'}, but this machine is not a member of an Active Directory domain (join one first: shares.directory.ad.join)`,
    ];
  const wg = ad.workgroup.toUpperCase();
  return names
    .filter((n) => n.split('\\')[0]?.toUpperCase() !== wg)
    .map(
      (n) =>
        `share ${sh.name}: ${n} is of domain ${n.split('\\')[0]}, but this machine is a member of ${wg}: write ${wg}\\${n.split('\\')[1]}`,
    );
}
