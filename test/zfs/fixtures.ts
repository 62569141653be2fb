/**
 * Reads the ZFS fixtures: zfs-fuse 0.7 and OpenZFS 2.1.11 outputs recorded from the real tools (the latter in the
 * kernel lab, scripts/lab/record-fixtures.sh zfs), and the one hand-written OpenZFS 2.2 file (openzfs-2.x).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export type Variant = 'zfs-fuse-0.7' | 'openzfs-2.1.11-lab' | 'openzfs-2.1.11-lab-send-token' | 'openzfs-2.x';

export function fixture(variant: Variant, name: string): string {
  return readFileSync(path.join(repoRoot(), 'test/fixtures/zfs', variant, name), 'utf8');
}
