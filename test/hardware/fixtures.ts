/** Paths of the hardware fixtures, and throw-away copies of them for tests that change a tree. */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/paths.js';

export const FIXTURE_NAMES = [
  'virtio-this-machine',
  'sata-ahci',
  'sas-expander-enclosure',
  'nvme',
  'usb',
  'iscsi',
  'tape-sas',
  'tape-fc-ibm',
  'tape-mhvtl',
  'lab-tgt-scsi-debug',
] as const;

export function fixture(name: string): string {
  return path.join(repoRoot(), 'test', 'fixtures', 'sysfs', name);
}

export function fixtureFile(...rel: string[]): string {
  return path.join(repoRoot(), 'test', 'fixtures', ...rel);
}

/** A writable copy of a fixture tree (links kept as they are). */
export function copyFixture(name: string): { dir: string; cleanup: () => void } {
  const t = tempDir('calypso-hw-');
  cpSync(fixture(name), t.dir, { recursive: true, verbatimSymlinks: true });
  return t;
}

/** JSON round trip: what a client sees (undefined fields dropped). */
export const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
