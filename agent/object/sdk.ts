/**
 * The AWS SDK, loaded on first use: it is the largest dependency of the agent (about a third
 * of its bundle), and an appliance without object storage never needs it. The bundler puts a
 * dynamically imported package in a chunk of its own, so the agent's start and idle memory
 * stay those of the subsystems in use (README, benchmarks).
 */
export type Sdk = typeof import('@aws-sdk/client-s3');

let loading: Promise<Sdk> | undefined;
let loaded: Sdk | undefined;

export function loadSdk(): Promise<Sdk> {
  loading ??= import('@aws-sdk/client-s3').then((m) => {
    loaded = m;
    return m;
  });
  return loading;
}

/** The SDK if something has loaded it already (an SDK error implies it has). */
export function sdkIfLoaded(): Sdk | undefined {
  return loaded;
}
