/**
 * Lock names of the tape area. One robot, one key: every move, inventory and cleaning on a
 * changer runs under `changerLockKey(id)`, and the Bacula side takes the same key around
 * `label barcodes` and `update slots` (import this function; do not spell the key).
 */
import { lockKey } from '../locks.js';

export function changerLockKey(changerId: string): string {
  return lockKey('changer', changerId);
}

export function driveLockKey(driveId: string): string {
  return lockKey('drive', driveId);
}
