/**
 * What Samba's `net ads` and MIT Kerberos's `kinit` / `klist -k` say, read into facts and plain
 * words. Pure; tested on outputs recorded from the real tools (test/fixtures/net-ads/).
 */

/** `net ads info`'s "Server time: Sun, 06 Dec 2026 17:47:30 UTC" as ms since the epoch. */
export function serverTimeOf(netAdsInfo: string): number | undefined {
  const m = /^Server time:\s*(.+)$/m.exec(netAdsInfo);
  if (!m?.[1]) return undefined;
  const t = Date.parse(m[1].trim());
  return Number.isNaN(t) ? undefined : t;
}

/** `net ads info`'s "KDC server" / "LDAP server name" lines. */
export function infoField(netAdsInfo: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:\\s*(.+)$`, 'm').exec(netAdsInfo);
  return m?.[1]?.trim();
}

/** The principals `klist -k` lists (KVNO and principal per line). */
export function keytabPrincipals(klist: string): string[] {
  const out: string[] = [];
  for (const l of klist.split('\n')) {
    const m = /^\s*\d+\s+(\S+@\S+)\s*$/.exec(l);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

/** The last meaningful line of a tool's output (what it says went wrong). */
function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Password for /.test(l));
  return lines.at(-1) ?? 'no output';
}

/** Plain words for a failed `kinit <user>@<realm>` (the credentials step). */
export function kinitProblem(out: string, user: string, realm: string): string {
  if (/Password incorrect|Preauthentication failed/i.test(out)) return `the password of ${user} is wrong`;
  if (/not found in Kerberos database/i.test(out)) return `${user} is not an account of ${realm}`;
  if (/Clock skew too great/i.test(out))
    return 'the clocks of this machine and the domain controller differ too much';
  if (/Cannot find KDC|Cannot contact any KDC/i.test(out))
    return `no Kerberos server (KDC) of ${realm} is reachable: ${lastLine(out)}`;
  if (/password has expired|Password has expired/i.test(out)) return `the password of ${user} has expired`;
  if (/revoked|locked/i.test(out)) return `the account ${user} is disabled or locked`;
  return lastLine(out);
}

/** Plain words for a failed `net ads join` / `net ads leave`. */
export function netAdsProblem(out: string): string {
  if (/logon is invalid|bad username or authentication|LOGON_FAILURE|Password incorrect/i.test(out))
    return 'the domain controller refused the user name or password';
  if (/Access is denied|ACCESS_DENIED|Insufficient access/i.test(out))
    return 'the account may not add (or remove) computers in the domain';
  if (/failed to find DC|No logon servers|DCNOTFOUND|Cannot find KDC/i.test(out))
    return `no domain controller was found: ${lastLine(out)}`;
  if (/clock skew/i.test(out)) return 'the clocks of this machine and the domain controller differ too much';
  return lastLine(out);
}

/** `net ads testjoin`: "Join is OK", or why not. */
export function testjoinOf(out: string, code: number): { joined: boolean; detail: string } {
  if (code === 0 && /Join is OK/.test(out)) return { joined: true, detail: 'Join is OK' };
  if (/Client not found in Kerberos database|LDAP_INVALID_CREDENTIALS|NO_TRUST|trust relationship/i.test(out))
    return {
      joined: false,
      detail: `the domain no longer knows this machine’s account (deleted or reset on the DC): ${lastLine(out)}`,
    };
  return { joined: false, detail: lastLine(out) };
}
