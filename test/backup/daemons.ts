export * from '../../sandbox/bacula.js';
