/**
 * `exportfs -v`: the export table nfsd serves from (/var/lib/nfs/etab), one export per path and
 * client — `<path> <client>(<options>)`, the client on a continuation line (two tabs) when the path
 * is longer than 14 characters, `<world>` for `*`. Pure; recorded output in
 * test/fixtures/exportfs/lab-nfs-utils-2.6.2/ (the kernel lab, test/lab/guest/shares-nfs.ts).
 */

export interface KernelExport {
  path: string;
  /** as the file names it: an address, network, name, wildcard, @netgroup, or * */
  client: string;
  options: string[];
}

export function parseExportfsV(text: string): KernelExport[] {
  const logical: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // a continuation: the client of a long path, on its own line
    if (/^\s/.test(line) && logical.length) logical[logical.length - 1] += ` ${line.trim()}`;
    else logical.push(line.trim());
  }
  return logical.map((l) => {
    const m = /^(\S+)\s+([^\s()]+)(?:\(([^()]*)\))?$/.exec(l);
    if (!m) throw new Error(`exportfs -v: unexpected line ${JSON.stringify(l)}`);
    const client = m[2] === '<world>' ? '*' : (m[2] as string);
    return { path: m[1] as string, client, options: m[3] ? m[3].split(',') : [] };
  });
}

/** `exportfs -v`, argv: every export of the table with its options. */
export const EXPORTFS_V = ['exportfs', '-v'];
