export * from '../../sandbox/bacula-lab.js';
