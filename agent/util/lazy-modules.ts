/**
 * Packages the agent loads on first use, shared by every subsystem that needs them (one loader
 * each, so one chunk load and one `unavailable` reason; see lazy.ts).
 */
import { lazyModule } from './lazy.js';

/** systeminformation (~10 MB resident): system.info and network.list. */
export const systemInformation = lazyModule<typeof import('systeminformation')>(
  'the system information library (systeminformation)',
  () => import('systeminformation'),
  'osInfo',
);

/** nodemailer: the first mail a notification target sends (most appliances never send one). */
export const nodemailer = lazyModule<typeof import('nodemailer')>(
  'the mail library (nodemailer)',
  () => import('nodemailer'),
  'createTransport',
);
