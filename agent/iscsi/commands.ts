/**
 * Pure tgtadm argv builders (every value its own argv element, never a shell). The shapes are
 * the ones run against the real tgtd here (test/fixtures/tgt/show-target.txt is what they
 * produced). `control` is tgtd's control port (-C), so a test's tgtd never meets another.
 */
const adm = (control: number, ...a: string[]) => ['tgtadm', '-C', String(control), '--lld', 'iscsi', ...a];

export const targetNew = (c: number, tid: number, iqn: string) =>
  adm(c, '--mode', 'target', '--op', 'new', '--tid', String(tid), '-T', iqn);
export const targetDelete = (c: number, tid: number) =>
  adm(c, '--mode', 'target', '--op', 'delete', '--force', '--tid', String(tid));
export const lunNew = (c: number, tid: number, lun: number, backing: string, blockSize: number) =>
  adm(
    c,
    '--mode',
    'logicalunit',
    '--op',
    'new',
    '--tid',
    String(tid),
    '--lun',
    String(lun),
    '-b',
    backing,
    `--blocksize=${blockSize}`,
  );
/** serial and id are validated tokens ([A-Za-z0-9]): tgtadm splits --params on commas and '=' */
export const lunParams = (
  c: number,
  tid: number,
  lun: number,
  serial: string,
  naa: string,
  readonly: boolean,
) =>
  lunUpdate(c, tid, lun, `scsi_sn=${serial},scsi_id=${naa},vendor_id=CALYPSO,readonly=${readonly ? 1 : 0}`);
export const bindInitiator = (c: number, tid: number, iqn: string) =>
  adm(c, '--mode', 'target', '--op', 'bind', '--tid', String(tid), '--initiator-name', iqn);
export const bindAddress = (c: number, tid: number, address: string) =>
  adm(c, '--mode', 'target', '--op', 'bind', '--tid', String(tid), '-I', address);
/**
 * What a CHAP account creation is shown as. It is never run as an argv: the password would be
 * readable in /proc/<pid>/cmdline; tgt-mgmt.ts sends it over tgtd's management socket.
 */
export const accountNewShown = (c: number, user: string) =>
  adm(c, '--mode', 'account', '--op', 'new', '--user', user, '--password', '********');
export const accountBind = (c: number, tid: number, user: string, outgoing = false) =>
  adm(
    c,
    '--mode',
    'account',
    '--op',
    'bind',
    '--tid',
    String(tid),
    '--user',
    user,
    ...(outgoing ? ['--outgoing'] : []),
  );
export const showTargets = (c: number) => adm(c, '--mode', 'target', '--op', 'show');
export const shutdown = (c: number) => ['tgtadm', '-C', String(c), '--op', 'delete', '--mode', 'system'];
export const lunDelete = (c: number, tid: number, lun: number) =>
  adm(c, '--mode', 'logicalunit', '--op', 'delete', '--tid', String(tid), '--lun', String(lun));
export const lunUpdate = (c: number, tid: number, lun: number, params: string) =>
  adm(
    c,
    '--mode',
    'logicalunit',
    '--op',
    'update',
    '--tid',
    String(tid),
    '--lun',
    String(lun),
    '--params',
    params,
  );
export const unbindInitiator = (c: number, tid: number, iqn: string) =>
  adm(c, '--mode', 'target', '--op', 'unbind', '--tid', String(tid), '--initiator-name', iqn);
export const unbindAddress = (c: number, tid: number, address: string) =>
  adm(c, '--mode', 'target', '--op', 'unbind', '--tid', String(tid), '-I', address);
export const accountDelete = (c: number, user: string) =>
  adm(c, '--mode', 'account', '--op', 'delete', '--user', user);
export const accountUnbind = (c: number, tid: number, user: string, outgoing = false) =>
  adm(
    c,
    '--mode',
    'account',
    '--op',
    'unbind',
    '--tid',
    String(tid),
    '--user',
    user,
    ...(outgoing ? ['--outgoing'] : []),
  );
export const showAccounts = (c: number) => adm(c, '--mode', 'account', '--op', 'show');
export const showPortals = (c: number) => adm(c, '--mode', 'portal', '--op', 'show');
/** `portal` as tgt writes it: a.b.c.d:port or [v6]:port */
export const portalNew = (c: number, portal: string) =>
  adm(c, '--mode', 'portal', '--op', 'new', '--param', `portal=${portal}`);
