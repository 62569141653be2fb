/**
 * The ZFS subsystem's datasets port (port.ts): a share's dataset made with the properties
 * SMB and NFS need before the share exists, instead of writes failing later. OpenZFS on Linux
 * gets xattr=sa (extended attributes in the dnode: fast DOS attributes and streams),
 * acltype=posixacl (Samba maps Windows ACLs onto POSIX ACLs), aclinherit=passthrough and, for
 * an SMB-only share, casesensitivity=insensitive (a creation-time property: Windows names).
 * zfs-fuse knows none of acltype, xattr=sa: the notes say so rather than pretend.
 */
import type { Effect } from '../config-set/types.js';
import * as cmd from './commands.js';
import type { ZfsContext } from './context.js';
import { parseZfsGet } from './parse-zfs-list.js';
import type { DatasetSpace, DatasetsPort, ShareDatasetSpec } from './port.js';
import { parseSize } from './units.js';

const quotaValue = (q: string | number | null) => (q === null ? 'none' : String(q));

export function shareProperties(
  dialect: 'openzfs' | 'zfs-fuse',
  protocols: ShareDatasetSpec['protocols'],
): { props: Record<string, string>; missing: string[] } {
  const smbOnly = protocols.length === 1 && protocols[0] === 'smb';
  const casesensitivity = smbOnly ? 'insensitive' : 'sensitive';
  if (dialect === 'openzfs')
    return {
      props: { xattr: 'sa', acltype: 'posixacl', aclinherit: 'passthrough', casesensitivity },
      missing: [],
    };
  // zfs-fuse 0.7: no acltype property and no xattr=sa (xattr on/off only)
  return {
    props: { aclinherit: 'passthrough', casesensitivity },
    missing: [
      'acltype=posixacl (no POSIX ACLs on zfs-fuse: setfacl answers "Operation not supported"; ACL entries, and the access matrix reading them, need OpenZFS with acltype=posixacl)',
      'xattr=sa (zfs-fuse has xattr=on only)',
    ],
  };
}

export function datasetsPort(z: ZfsContext): DatasetsPort {
  return {
    async prepareShare(spec) {
      const dialect = await z.ready();
      const { props, missing } = shareProperties(dialect.name, spec.protocols);
      // zfs-fuse 0.7 has no .zfs control directory
      const snapshotDir = dialect.name === 'openzfs';
      const notes = missing.map((m) => `${spec.name}: ${m} — not set, this ZFS lacks it`);
      if (await z.driver.datasetExists(spec.name)) {
        notes.push(`${spec.name} exists: used as it is (its properties are not changed)`);
        return { effects: [], notes, snapshotDir };
      }
      const effect: Effect = {
        argv: cmd.zfsCreate(spec.name, { mountpoint: spec.mountpoint, ...props }, true),
        // -f: zfs-fuse refuses to destroy a mounted filesystem otherwise
        undo: ['zfs', 'destroy', '-f', '--', spec.name],
        timeoutMs: z.options.commandTimeoutMs,
      };
      return { effects: [effect], notes, snapshotDir };
    },
    setQuota(name, quota, previous) {
      return {
        // no `--`: zfs-fuse's `zfs set` does not parse options (commands.ts zfsSet)
        argv: cmd.zfsSet(name, { refquota: quotaValue(quota) })[0]!,
        undo: cmd.zfsSet(name, { refquota: quotaValue(previous) })[0]!,
        timeoutMs: z.options.commandTimeoutMs,
      };
    },
    async space(names) {
      const out = new Map<string, DatasetSpace>();
      if (!names.length) return out;
      await z.ready();
      const want = new Set(names);
      // one `zfs get -r` per parent (a share's datasets are siblings): 1,000 shares, one process
      const parents = [...new Set(names.map((n) => n.slice(0, n.lastIndexOf('/'))))];
      for (const parent of parents) {
        const r = await z.driver.run(
          [
            'zfs',
            'get',
            '-r',
            '-H',
            '-p',
            '-o',
            'name,property,value,source',
            'used,available,refquota',
            '--',
            parent,
          ],
          { okCodes: [0, 1] },
        );
        for (const [name, props] of parseZfsGet(r.stdout)) {
          if (!want.has(name)) continue;
          const quota = parseSize(props.get('refquota')?.value);
          out.set(name, {
            used: parseSize(props.get('used')?.value) ?? 0,
            available: parseSize(props.get('available')?.value) ?? 0,
            ...(quota ? { quota } : {}),
          });
        }
      }
      return out;
    },
  };
}
