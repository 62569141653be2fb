/** Moved to agent/util/cron.ts (the restore drills use it too); kept so zfs imports stay short. */
export * from '../util/cron.js';
