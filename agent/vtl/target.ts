/**
 * mhvtl's files as a target of the managed-config pipeline: device.conf, one
 * library_contents.<id> per library and mhvtl.conf, rendered from the desired state; activation
 * creates the cartridges that do not exist yet with mktape (under the libraries' home, the
 * appliance's vtl data area) and restarts mhvtl.target. Both steps carry a `when` that the dry
 * run evaluates too, so a plan lists exactly what the apply runs.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigTarget, FileSet, Step } from '../config-set/index.js';
import type { Runner } from '../runner.js';
import * as cmd from './commands.js';
import { renderDeviceConf } from './device-conf.js';
import { renderLibraryContents } from './library-contents.js';
import { renderMhvtlConf } from './mhvtl-conf.js';
import {
  barcodesOf,
  deviceConfOf,
  EMPTY_VTL,
  libraryContentsOf,
  mhvtlConfOf,
  type VtlState,
} from './model.js';

export interface VtlPaths {
  /** where device.conf, library_contents.N and mhvtl.conf are written (MHVTL_CONFIG_PATH) */
  configDir: string;
  /** the libraries' home: one directory per cartridge, made by mktape */
  home: string;
}

export function renderVtl(s: VtlState, p: VtlPaths): FileSet {
  const files: FileSet = new Map();
  files.set(path.join(p.configDir, 'device.conf'), renderDeviceConf(deviceConfOf(s, p.home)));
  for (const l of s.libraries)
    files.set(
      path.join(p.configDir, `library_contents.${l.id}`),
      renderLibraryContents(libraryContentsOf(l)),
    );
  files.set(path.join(p.configDir, 'mhvtl.conf'), renderMhvtlConf(mhvtlConfOf(p.configDir)));
  return files;
}

/** mktape for every cartridge of the state whose media directory does not exist yet. */
export function mediaSteps(s: VtlState, p: VtlPaths, exists = existsSync): Step[] {
  return s.libraries.flatMap((l) =>
    barcodesOf(l).map((b) => ({
      argv: cmd.mktape(p.configDir, l.id, b.barcode, l.capacityMB, b.kind, b.gen),
      when: {
        describe: `media ${b.barcode} does not exist`,
        test: async () => !exists(path.join(p.home, b.barcode)),
      },
    })),
  );
}

export function vtlTarget(p: VtlPaths, runner: Runner, mhvtlPresent: () => boolean): ConfigTarget<VtlState> {
  return {
    name: 'mhvtl',
    initial: () => EMPTY_VTL,
    render: (s) => renderVtl(s, p),
    mode: () => 0o644,
    async prepare() {
      await mkdir(p.home, { recursive: true });
    },
    activate: (ctx) => [
      ...mediaSteps(ctx.state, p),
      {
        argv: cmd.restartMhvtl(),
        when: {
          describe: 'systemd runs mhvtl',
          test: async () => !!runner.which('systemctl') && mhvtlPresent(),
        },
      },
    ],
  };
}
