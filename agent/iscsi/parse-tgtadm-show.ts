/**
 * `tgtadm --lld iscsi --mode target --op show`: the running targets, their I_T nexus
 * (sessions), LUNs, bound CHAP accounts and ACLs. Pure: text in, structure out; indentation is
 * how tgtadm nests its sections, so it drives the parse.
 */
export interface TgtLun {
  lun: number;
  type: string;
  scsiId: string;
  scsiSn: string;
  sizeMB: number;
  blockSize: number;
  online: boolean;
  readonly: boolean;
  backingType: string;
  backingPath: string | null;
}

export interface TgtNexus {
  nexus: number;
  initiator: string;
  address?: string;
}

export interface TgtTarget {
  tid: number;
  iqn: string;
  state: string;
  sessions: TgtNexus[];
  luns: TgtLun[];
  accounts: string[];
  acl: string[];
}

export function parseTgtadmShow(text: string): TgtTarget[] {
  const out: TgtTarget[] = [];
  let t: TgtTarget | undefined;
  let section = '';
  let lun: TgtLun | undefined;
  let nexus: TgtNexus | undefined;
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    const m = /^Target (\d+): (\S+)$/.exec(raw);
    if (m) {
      t = { tid: Number(m[1]), iqn: m[2]!, state: '', sessions: [], luns: [], accounts: [], acl: [] };
      out.push(t);
      section = '';
      continue;
    }
    if (!t) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 4) {
      section = line.replace(/:$/, '');
      continue;
    }
    const [k, ...rest] = line.split(':');
    const v = rest.join(':').trim();
    if (section === 'System information' && k === 'State') t.state = v;
    else if (section === 'I_T nexus information') {
      if (k === 'I_T nexus') {
        nexus = { nexus: Number(v), initiator: '' };
        t.sessions.push(nexus);
      } else if (k === 'Initiator' && nexus) nexus.initiator = v.replace(/ alias.*$/, '');
      else if (k === 'IP Address' && nexus) nexus.address = v;
    } else if (section === 'LUN information') {
      if (k === 'LUN') {
        lun = {
          lun: Number(v),
          type: '',
          scsiId: '',
          scsiSn: '',
          sizeMB: 0,
          blockSize: 0,
          online: false,
          readonly: false,
          backingType: '',
          backingPath: null,
        };
        t.luns.push(lun);
      } else if (lun) {
        if (k === 'Type') lun.type = v;
        else if (k === 'SCSI ID') lun.scsiId = v;
        else if (k === 'SCSI SN') lun.scsiSn = v;
        else if (k === 'Size') {
          const s = /^(\d+) MB, Block size: (\d+)/.exec(v);
          if (s) {
            lun.sizeMB = Number(s[1]);
            lun.blockSize = Number(s[2]);
          }
        } else if (k === 'Online') lun.online = v === 'Yes';
        else if (k === 'Readonly') lun.readonly = v === 'Yes';
        else if (k === 'Backing store type') lun.backingType = v;
        else if (k === 'Backing store path') lun.backingPath = v === 'None' ? null : v;
      }
    } else if (section === 'Account information') t.accounts.push(line);
    else if (section === 'ACL information') t.acl.push(line);
  }
  return out;
}

/** `tgtadm --mode account --op show`: the account names ("Account list:" then one per line). */
export function parseTgtAccounts(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^\s+\S/.test(l))
    .map((l) => l.trim());
}

/** `tgtadm --mode portal --op show`: `Portal: 127.0.0.1:3260,1` → `127.0.0.1:3260`. */
export function parseTgtPortals(text: string): string[] {
  const out: string[] = [];
  for (const l of text.split('\n')) {
    const m = /^Portal:\s*(\S+?)(?:,\d+)?\s*$/.exec(l);
    if (m) out.push(m[1]!);
  }
  return out;
}
