/**
 * The steps of an Active Directory join and leave, each named, and the argv each runs: pure
 * builders that make the dry run's plan and the real run alike. No password is ever in an argv:
 * `kinit` reads it on stdin, `net` from its environment's PASSWD (Samba's credentials parser;
 * PASSWD_FD=0 with the password on stdin was tried first, and Samba 4.17's `net ads join`
 * answered "Error reading password from file descriptor 0: empty password": it reads the
 * descriptor more than once).
 */
import type { AdPaths, AdState } from './directory-ad-model.js';

/** The names a failure is reported under, in the order they run. */
export const JOIN_STEPS = [
  'idmap range overlap',
  'DNS SRV',
  'configuration',
  'clock skew',
  'credentials',
  'join',
  'keytab',
  'test join',
  'winbind',
] as const;
export type JoinStep = (typeof JOIN_STEPS)[number];

/** Refused above this difference between the agent's clock and the DC's (Kerberos's own default). */
export const MAX_SKEW_MS = 5 * 60_000;

import { winbinddArgv } from './winbind.js';

export interface AdArgv {
  conf: string;
  paths: AdPaths;
}

const realmOf = (ad: AdState) => ad.realm.toUpperCase();

/** `net ads info` (no credentials: CLDAP and the rootDSE) once smb.conf names the domain. */
export const infoArgv = (a: AdArgv) => ['net', 'ads', 'info', '-s', a.conf];

/** A throwaway credentials cache: the check of the password leaves no ticket behind. */
export const ccacheOf = (a: AdArgv) => `${a.paths.private}/krb5cc_join`;

export const kinitArgv = (a: AdArgv, ad: AdState, user: string) => [
  'kinit',
  '-c',
  `FILE:${ccacheOf(a)}`,
  '--',
  `${user}@${realmOf(ad)}`,
];

export const kdestroyArgv = (a: AdArgv) => ['kdestroy', '-q', '-c', `FILE:${ccacheOf(a)}`];

export const joinArgv = (a: AdArgv, user: string, registerDns: boolean) => [
  'net',
  'ads',
  'join',
  '-s',
  a.conf,
  '-U',
  user,
  ...(registerDns ? [] : ['--no-dns-updates']),
];

export const keytabArgv = (a: AdArgv) => ['net', 'ads', 'keytab', 'create', '-s', a.conf, '-P'];
export const klistArgv = (a: AdArgv) => ['klist', '-k', `FILE:${a.paths.keytab}`];
export const testjoinArgv = (a: AdArgv) => ['net', 'ads', 'testjoin', '-s', a.conf, '-P'];
export const leaveArgv = (a: AdArgv, user: string) => ['net', 'ads', 'leave', '-s', a.conf, '-U', user];
export const removeKeytabArgv = (a: AdArgv) => ['rm', '-f', '--', a.paths.keytab];

/** What the tools of a join read: our krb5.conf, and (for net) the password as PASSWD. */
export function envOf(a: AdArgv, password?: string): Record<string, string> {
  return { KRB5_CONFIG: a.paths.krb5conf, ...(password !== undefined ? { PASSWD: password } : {}) };
}

/**
 * The argv of a join in the order the real run runs them; `configuration` is where the
 * pipeline's own commands (testparm, smbcontrol) go.
 */
export function joinPlan(
  a: AdArgv,
  ad: AdState,
  user: string,
  registerDns: boolean,
  configuration: string[][],
): string[][] {
  return [
    ...configuration,
    infoArgv(a),
    kinitArgv(a, ad, user),
    kdestroyArgv(a),
    joinArgv(a, user, registerDns),
    keytabArgv(a),
    klistArgv(a),
    testjoinArgv(a),
    winbinddArgv(a.conf),
  ];
}

/** The plan's words: what each step checks or does. */
export function joinNotes(ad: AdState, user: string, dnsServer: string | undefined): string[] {
  const r = realmOf(ad);
  return [
    'idmap range overlap: the idmap ranges of the rendered smb.conf against each other and the local uid ranges',
    `DNS SRV: _ldap._tcp.dc._msdcs.${r.toLowerCase()} through ${dnsServer ?? 'the system’s DNS server'}`,
    `configuration: smb.conf with security = ads, realm ${r}, checked by testparm (put back if a later step fails)`,
    `clock skew: the DC’s time (net ads info) against this machine’s, at most ${MAX_SKEW_MS / 60_000} minutes apart`,
    `credentials: a Kerberos ticket for ${user}@${r} (the password on kinit’s stdin, never in an argv)`,
    `join: net ads join as ${user}`,
    'keytab: net ads keytab create, then klist -k lists the machine’s host/ principals',
    'test join: net ads testjoin with the machine account',
    'winbind: the member’s winbindd started (restarted) on this smb.conf, answering wbinfo -p (domain users and groups through it)',
  ];
}
