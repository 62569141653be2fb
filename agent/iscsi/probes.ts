/** The capabilities the iSCSI subsystem declares (agent/capabilities.ts): its backends' tools and the initiator. */
import { type Probe, rootOnly } from '../capabilities.js';

export const ISCSI_PROBES: Probe[] = [
  {
    name: 'scst',
    bins: ['scstadmin'],
    paths: ['sys/kernel/scst_tgt'],
    versionArgs: ['-version'],
    okCodes: [0, 1],
  },
  {
    name: 'tgt',
    bins: ['tgtadm'],
    versionArgs: ['--version'],
    versionFrom: /(\d[\w.]*)/,
    unusable: () => rootOnly('tgtd answers its control socket for root only'),
  },
  { name: 'iscsi-initiator', bins: ['iscsi-ls', 'iscsi-inq'], versionArgs: ['--help'], okCodes: [0, 1, 255] },
];
