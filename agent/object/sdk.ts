/**
 * The AWS SDK, loaded on first use: it is the largest dependency of the agent (about a third
 * of its bundle), and an appliance without object storage never needs it. The bundler puts a
 * dynamically imported package in a chunk of its own, so the agent's start and idle memory
 * stay those of the subsystems in use (README, benchmarks). In that chunk the SDK is a
 * CommonJS module with only a default export: `lazyModule` finds its exports either way, and a
 * SDK that cannot be loaded makes object methods `unavailable` with the reason.
 */
import { lazyModule } from '../util/lazy.js';

export type Sdk = typeof import('@aws-sdk/client-s3');

const sdk = lazyModule<Sdk>(
  'the S3 client (@aws-sdk/client-s3)',
  () => import('@aws-sdk/client-s3'),
  'S3Client',
);

export function loadSdk(): Promise<Sdk> {
  return sdk();
}

/** The SDK if something has loaded it already (an SDK error implies it has). */
export function sdkIfLoaded(): Sdk | undefined {
  return sdk.ifLoaded();
}
