/**
 * The parts of LIO's configfs the backend reads, as {path: value | {link} | {dir}}: what the LIO
 * guest scenario (lio-guest.ts) records as fixtures for the pure tests (test/fixtures/lio-configfs).
 */
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';

const CFS = '/sys/kernel/config/target';

/** The parts of configfs the backend reads, as {path: value | {link}}: a recorded fixture. */
export async function dumpTree(): Promise<Record<string, string | { link: string } | { dir: true }>> {
  const out: Record<string, string | { link: string } | { dir: true }> = {};
  const rd = async (rel: string) => {
    try {
      out[rel] = await readFile(path.join(CFS, rel), 'utf8');
    } catch {
      // not there on this kernel
    }
  };
  const ls = async (rel: string) => {
    try {
      return (await readdir(path.join(CFS, rel))).sort();
    } catch {
      return [];
    }
  };
  const isDir = async (rel: string) =>
    (await stat(path.join(CFS, rel)).catch(() => null))?.isDirectory() ?? false;
  const links = async (rel: string) => {
    for (const n of await ls(rel)) {
      const p = `${rel}/${n}`;
      try {
        out[p] = { link: await readlink(path.join(CFS, p)) };
      } catch {
        // not a link
      }
    }
  };
  for (const hba of await ls('core')) {
    if (hba === 'alua' || !(await isDir(`core/${hba}`))) continue;
    out[`core/${hba}`] = { dir: true };
    for (const d of await ls(`core/${hba}`)) {
      const dir = `core/${hba}/${d}`;
      if (!(await isDir(dir))) continue;
      for (const f of ['enable', 'info', 'udev_path', 'attrib/block_size', 'wwn/vpd_unit_serial'])
        await rd(`${dir}/${f}`);
    }
  }
  for (const iqn of await ls('iscsi')) {
    if (!/^(iqn|eui|naa)\./.test(iqn)) continue;
    out[`iscsi/${iqn}`] = { dir: true };
    for (const tpg of await ls(`iscsi/${iqn}`)) {
      if (!tpg.startsWith('tpgt_')) continue;
      const b = `iscsi/${iqn}/${tpg}`;
      for (const f of ['enable', 'dynamic_sessions']) await rd(`${b}/${f}`);
      for (const k of [
        'authentication',
        'generate_node_acls',
        'cache_dynamic_acls',
        'demo_mode_write_protect',
      ])
        await rd(`${b}/attrib/${k}`);
      for (const k of ['userid', 'password', 'userid_mutual', 'password_mutual']) await rd(`${b}/auth/${k}`);
      for (const np of await ls(`${b}/np`)) out[`${b}/np/${np}`] = { dir: true };
      for (const l of await ls(`${b}/lun`)) {
        out[`${b}/lun/${l}`] = { dir: true };
        await links(`${b}/lun/${l}`);
      }
      for (const ini of await ls(`${b}/acls`)) {
        const a = `${b}/acls/${ini}`;
        out[a] = { dir: true };
        for (const f of ['tag', 'info']) await rd(`${a}/${f}`);
        for (const k of ['userid', 'password', 'userid_mutual', 'password_mutual'])
          await rd(`${a}/auth/${k}`);
        for (const m of await ls(a)) {
          if (!/^lun_[0-9]+$/.test(m)) continue;
          out[`${a}/${m}`] = { dir: true };
          await rd(`${a}/${m}/write_protect`);
          await links(`${a}/${m}`);
        }
      }
    }
  }
  return out;
}
