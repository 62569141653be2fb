export * from '../../sandbox/ceph.js';
