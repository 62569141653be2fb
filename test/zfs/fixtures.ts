/** Reads the ZFS fixtures (recorded zfs-fuse outputs and hand-written OpenZFS ones). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export type Variant = 'zfs-fuse-0.7' | 'openzfs-2.x';

export function fixture(variant: Variant, name: string): string {
  return readFileSync(path.join(repoRoot(), 'test/fixtures/zfs', variant, name), 'utf8');
}
