/**
 * shares.directory.ad.* — the shares' Active Directory membership (docs/active-directory.md): its
 * status (the standing health check's answer), the join and the leave as jobs, and the join's dry
 * run. The admin password goes out in the call's params only: the agent redacts it from the audit
 * log and the job record, and the page never keeps it.
 */
import type { DryRunPlan, Params, Result } from '../generated/api.js';
import type { AgentClient } from '../rpc/client.js';
import type { JobSummary } from './jobs.js';

type Opts = { signal?: AbortSignal };

export type AdStatus = Result<'shares.directory.ad.status'>;
export type JoinParams = Params<'shares.directory.ad.join'>;
export type LeaveParams = Params<'shares.directory.ad.leave'>;
/** One step's report, as the join job's result and error carry it (agent/shares/directory-ad.ts). */
export interface JoinStep {
  name: string;
  ok: boolean;
  detail: string;
}

export const JOIN_METHOD = 'shares.directory.ad.join';
export const LEAVE_METHOD = 'shares.directory.ad.leave';

export type DomainNames = Result<'shares.directory.ad.names'>;

/**
 * The joined domain's users and groups, for the share dialog to offer while a name is typed; none
 * when the shares are no domain member or winbind cannot answer now (the typed name is still checked).
 */
export async function domainNames(
  c: AgentClient,
  o: Opts = {},
): Promise<{ users: string[]; groups: string[] }> {
  const get = (kind: 'users' | 'groups') =>
    c.call<DomainNames>('shares.directory.ad.names', { kind, limit: 1000 }, o).then(
      (r) => r.items,
      () => [] as string[],
    );
  const [users, groups] = await Promise.all([get('users'), get('groups')]);
  return { users, groups };
}

export const adStatus = (c: AgentClient, o: Opts = {}) =>
  c.call<AdStatus>('shares.directory.ad.status', {}, o);
export const planJoin = (c: AgentClient, p: JoinParams) =>
  c.call<DryRunPlan>(JOIN_METHOD, { ...p, dryRun: true });
export const startJoin = (c: AgentClient, p: JoinParams) => c.call<{ job: string }>(JOIN_METHOD, p);
export const startLeave = (c: AgentClient, p: LeaveParams) => c.call<{ job: string }>(LEAVE_METHOD, p);

/** What the form holds (the password apart: read from its field when sent). */
export interface JoinDraft {
  realm: string;
  workgroup: string;
  netbiosName: string;
  dnsServer: string;
  user: string;
}

export const EMPTY_JOIN: JoinDraft = {
  realm: '',
  workgroup: '',
  netbiosName: '',
  dnsServer: '',
  user: 'Administrator',
};

/** The join's params from the form, or what is wrong in words (nothing sent then). */
export function joinParams(d: JoinDraft, password: string): JoinParams | string {
  const realm = d.realm.trim();
  const workgroup = d.workgroup.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z0-9.-]*[A-Za-z0-9]$/.test(realm))
    return 'the realm is the domain’s DNS name, such as EXAMPLE.COM';
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,14}$/.test(workgroup))
    return 'the workgroup is the domain’s NetBIOS name (up to 15 letters, digits or -), such as EXAMPLE';
  if (!d.user.trim()) return 'the admin user is needed (an account that may add computers)';
  if (!password) return 'the admin user’s password is needed';
  return {
    realm,
    workgroup,
    user: d.user.trim(),
    password,
    ...(d.netbiosName.trim() ? { netbiosName: d.netbiosName.trim() } : {}),
    ...(d.dnsServer.trim() ? { dnsServer: d.dnsServer.trim() } : {}),
  };
}

/** A failed join's step and every step's report, from the job's error (`<step>: <what went wrong>`). */
export function failedStep(j: JobSummary | undefined): { step?: string; steps: JoinStep[] } {
  const data = (j?.error?.data ?? {}) as { step?: unknown; steps?: unknown };
  return {
    ...(typeof data.step === 'string' ? { step: data.step } : {}),
    steps: Array.isArray(data.steps) ? (data.steps as JoinStep[]) : [],
  };
}

/** A domain user or group as winbind names it, `DOMAIN\\name` (agent/shares/directory-ad-users.ts DOMAIN_NAME). */
export const DOMAIN_NAME =
  /^[A-Za-z0-9][A-Za-z0-9-]{0,14}\\[A-Za-z0-9_.-]([A-Za-z0-9 _.$-]{0,62}[A-Za-z0-9_.$-])?$/;

/** What is wrong with a typed domain name, in words (undefined: fine). */
export function domainNameProblem(name: string): string | undefined {
  if (DOMAIN_NAME.test(name)) return undefined;
  if (name.includes('@'))
    return `write ${name} as DOMAIN\\name (the domain’s NetBIOS name, a backslash, the account)`;
  return `${name} is not DOMAIN\\name (letters, digits, spaces and _ . - $ after the backslash)`;
}
