/** The capabilities the backup subsystem declares (agent/capabilities.ts): Bacula's daemons and console. */
import type { Probe } from '../capabilities.js';

const bacula = (name: string): Probe => ({
  name,
  bins: [name],
  versionArgs: ['-?'],
  versionFrom: /Version:\s*(\S+)/,
  okCodes: [0, 1],
});

export const BACKUP_PROBES: Probe[] = [
  bacula('bacula-dir'),
  bacula('bacula-sd'),
  bacula('bacula-fd'),
  bacula('bconsole'),
  {
    name: 'bareos-dir',
    bins: ['bareos-dir'],
    versionArgs: ['--version'],
    versionFrom: /(\d[\w.]+)/,
    okCodes: [0, 1],
  },
];
