/**
 * The desired iSCSI state as tgt's own targets file (`/etc/tgt/targets.conf` syntax, what
 * `tgt-admin --update ALL` reads). Written by the pipeline under the generated-config
 * directory: it documents what the agent makes tgtd run, and on an appliance where the agent
 * is stopped it lets `tgt-admin -e -c <file>` bring the same targets up. The running daemon
 * itself is converged by tgtadm commands (tgt-plan.ts), not by re-reading this file.
 *
 * Every value comes from a validated token (model.ts); CHAP secrets are read when rendering
 * for real and hidden by `redactTgt` in diffs and history.
 */
import type { BackingPath } from './backend.js';
import { chapSecretKey, type IscsiState, type Lun } from './model.js';

export interface TgtRenderOptions {
  backingPath: BackingPath;
  secrets: { get(key: string): string | undefined };
}

/** tgt's mode page 8 (caching) with WCE cleared, as tgt-admin writes for `write-cache off`. */
export const WRITE_THROUGH_MODE_PAGE =
  'mode_page=8:0:18:0x10:0:0xff:0xff:0:0:0xff:0xff:0xff:0xff:0x80:0x14:0:0:0:0:0:0';

const REDACTED = '********';

function lunBlock(l: Lun, o: TgtRenderOptions): string[] {
  return [
    `    <backing-store ${o.backingPath(l)}>`,
    `        lun ${l.lun}`,
    `        scsi_sn ${l.serial}`,
    `        scsi_id ${l.naa}`,
    '        vendor_id CALYPSO',
    `        block-size ${l.blockSize}`,
    ...(l.readonly ? ['        readonly 1'] : []),
    `        write-cache ${l.cache === 'write-back' ? 'on' : 'off'}`,
    '    </backing-store>',
  ];
}

export function renderTargetsConf(s: IscsiState, o: TgtRenderOptions): string {
  const out = [
    '# Written by calypso-agent from its iSCSI configuration; changes here are overwritten.',
    '# The agent converges the running tgtd with tgtadm; this file is what tgt-admin would read.',
    'default-driver iscsi',
  ];
  const portals = new Set<string>();
  for (const t of [...s.targets].sort((a, b) => a.tid - b.tid)) {
    for (const p of t.portals) portals.add(portalText(p));
    out.push('');
    if (!t.enabled) {
      out.push(`# ${t.iqn} (target ${t.tid}) is disabled`);
      continue;
    }
    out.push(`# target ${t.tid}${t.alias ? ` (${t.alias})` : ''}`, `<target ${t.iqn}>`);
    for (const l of [...t.luns].sort((a, b) => a.lun - b.lun)) out.push(...lunBlock(l, o));
    const names = t.groups.flatMap((g) => g.initiators);
    if (names.length) for (const n of names) out.push(`    initiator-name ${n}`);
    else out.push('    initiator-address ALL');
    if (t.chap) {
      out.push(`    incominguser ${t.chap.user} ${o.secrets.get(chapSecretKey(t.tid)) ?? ''}`);
      if (t.chap.mutualUser)
        out.push(`    outgoinguser ${t.chap.mutualUser} ${o.secrets.get(chapSecretKey(t.tid, true)) ?? ''}`);
    }
    out.push('</target>');
  }
  if (portals.size)
    out.push('', `# portals (tgtd listens on them; tgt has no per-target portal): ${[...portals].join(' ')}`);
  return `${out.join('\n')}\n`;
}

export function portalText(p: { address: string; port: number }): string {
  return p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

/** The file as diffs and history show it: CHAP secrets replaced. */
export function redactTgt(text: string): string {
  return text.replace(/^(\s*(?:incoming|outgoing)user\s+\S+)\s+\S+\s*$/gm, `$1 ${REDACTED}`);
}
