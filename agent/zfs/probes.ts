/** The capability the ZFS subsystem declares (agent/capabilities.ts): the tools and their dialect. */
import { closedToUs, type Probe } from '../capabilities.js';

export const ZFS_PROBE: Probe = {
  name: 'zfs',
  bins: ['zpool', 'zfs'],
  versionArgs: ['version'],
  versionFrom: /zfs-(\d[\w.-]*)/,
  okCodes: [0, 1, 2],
  variant: (r) => (r.which('zfs-fuse') ? 'zfs-fuse' : 'openzfs'),
  unusable: () =>
    closedToUs('/run/zfs', "zfs-fuse's socket directory") ??
    closedToUs('/run/zfs/zfs_socket', "zfs-fuse's socket") ??
    closedToUs('/dev/zfs', 'the ZFS device'),
};
