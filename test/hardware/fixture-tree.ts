/** Shared by the fixture builders: a fresh fixture directory, the PCI root path. */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TreeBuilder } from '../../probes/synthetic-builder.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(here, '../fixtures/sysfs');

export const SYS = 'sys/devices/pci0000:00';

/** A builder over an emptied test/fixtures/sysfs/NAME. */
export function fresh(name: string): TreeBuilder {
  const root = path.join(FIXTURES, name);
  rmSync(root, { recursive: true, force: true });
  return new TreeBuilder(root);
}
