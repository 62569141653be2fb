/**
 * Renders the storage daemon (main file + sd.d/devices.conf), the appliance's file daemon and
 * bconsole.conf. Pure: desired state + secrets + paths → file texts.
 */
import path from 'node:path';
import type { DesiredState, DiskStorage, TapeStorage } from './model.js';
import { daemonNames } from './model.js';
import type { BaculaPaths } from './paths.js';
import { block, file, include, type Line, q, type RenderSecrets } from './render-common.js';
import { allStorages, mediaType } from './render-dir.js';

/** Debian's changer script; %c changer device, %o command, %S slot, %a archive device, %d drive index. */
export const DEFAULT_CHANGER_COMMAND = '/etc/bacula/scripts/mtx-changer %c %o %S %a %d';
const PLUGIN_DIR = '/usr/lib/bacula';

export function renderSdMain(state: DesiredState, secrets: RenderSecrets, p: BaculaPaths): string {
  const s = state.settings;
  const names = daemonNames(s);
  return file([
    block('Storage', [
      ['Name', names.sd],
      ['SDPort', s.sdPort],
      ['SDAddress', { raw: s.address }],
      ['WorkingDirectory', p.workDir],
      ['Pid Directory', p.pidDir],
      ['Plugin Directory', PLUGIN_DIR],
      ['Maximum Concurrent Jobs', s.maxConcurrentJobs],
    ]),
    block('Director', [
      ['Name', names.dir],
      ['Password', secrets.sd],
    ]),
    block('Messages', [['Name', 'Standard'], `  director = ${q(names.dir)} = all`]),
    include(p.sdDevices),
  ]);
}

/** Archive directory of a disk storage: its own path, else <srv>/backups/<name>. */
export function diskPath(st: DiskStorage, p: BaculaPaths): string {
  return st.path ?? path.join(p.volumesRoot, st.name);
}

export function deviceNames(st: DiskStorage | TapeStorage): string[] {
  return st.type === 'disk'
    ? Array.from({ length: st.devices }, (_, i) => `${st.name}-dev${i + 1}`)
    : st.drives.map((d) => `${st.name}-drive${d.index}`);
}

function diskBlocks(st: DiskStorage, p: BaculaPaths): string[] {
  const devs = deviceNames(st);
  // A virtual autochanger over N file devices: Bacula's recommended layout for disk storage,
  // which lets N jobs write in parallel (each device holds one volume open at a time).
  const changer = block('Autochanger', [
    ['Name', st.name],
    `  Device = ${devs.map(q).join(', ')}`,
    ['Changer Command', ''],
    ['Changer Device', '/dev/null'],
  ]);
  const perDevice = Math.max(1, Math.ceil(st.maxConcurrentJobs / devs.length));
  const devices = devs.map((name) =>
    block('Device', [
      ['Name', name],
      ['Media Type', mediaType(st)],
      ['Archive Device', diskPath(st, p)],
      ['LabelMedia', true],
      ['Random Access', true],
      ['AutomaticMount', true],
      ['RemovableMedia', false],
      ['AlwaysOpen', false],
      ['Maximum Concurrent Jobs', perDevice],
    ]),
  );
  return [changer, ...devices];
}

function tapeBlocks(st: TapeStorage): string[] {
  const devs = deviceNames(st);
  const changer = block('Autochanger', [
    ['Name', st.name],
    `  Device = ${devs.map(q).join(', ')}`,
    ['Changer Command', st.changerCommand ?? DEFAULT_CHANGER_COMMAND],
    ['Changer Device', st.changerDevice],
  ]);
  const drives = st.drives.map((d, i) => {
    const lines: Line[] = [
      ['Name', devs[i]],
      ['Drive Index', d.index],
      ['Media Type', st.mediaType],
      ['Archive Device', d.device],
      ['AutomaticMount', true],
      ['AlwaysOpen', true],
      ['RemovableMedia', true],
      ['RandomAccess', false],
      ['AutoChanger', true],
    ];
    return block('Device', lines);
  });
  return [changer, ...drives];
}

export function renderSdDevices(state: DesiredState, p: BaculaPaths): string {
  return file(allStorages(state).flatMap((st) => (st.type === 'disk' ? diskBlocks(st, p) : tapeBlocks(st))));
}

export function renderFd(state: DesiredState, secrets: RenderSecrets, p: BaculaPaths): string {
  const s = state.settings;
  const names = daemonNames(s);
  return file([
    block('Director', [
      ['Name', names.dir],
      ['Password', secrets.fd],
    ]),
    block('FileDaemon', [
      ['Name', names.fd],
      ['FDport', s.fdPort],
      ['FDAddress', { raw: s.address }],
      ['WorkingDirectory', p.workDir],
      ['Pid Directory', p.pidDir],
      ['Plugin Directory', PLUGIN_DIR],
      ['Maximum Concurrent Jobs', s.maxConcurrentJobs],
    ]),
    block('Messages', [['Name', 'Standard'], `  director = ${q(names.dir)} = all, !skipped, !restored`]),
  ]);
}

export function renderBconsole(state: DesiredState, secrets: RenderSecrets): string {
  const s = state.settings;
  return file([
    block('Director', [
      ['Name', daemonNames(s).dir],
      ['DIRport', s.dirPort],
      ['Address', { raw: s.address }],
      ['Password', secrets.dir],
    ]),
  ]);
}
