/** What the object subsystem contributes to `/metrics` (agent/metrics-registry.ts): usage and quota per bucket. */
import { defineMetrics, family, type MetricsSource } from '../metrics-registry.js';

export interface BucketReading {
  name: string;
  bytes: number;
  objects: number;
  quotaBytes?: number;
}

export function objectMetrics(buckets: () => Promise<BucketReading[]>): MetricsSource<unknown>[] {
  const per = (name: string, help: string, v: (b: BucketReading) => number | undefined) =>
    family<BucketReading[]>({
      name,
      help,
      labels: ['bucket'],
      collect(bs, set) {
        for (const b of bs) {
          const x = v(b);
          if (x !== undefined) set({ bucket: b.name }, x);
        }
      },
    });
  return [
    defineMetrics({
      name: 'object.buckets',
      read: buckets,
      families: [
        per('calypso_object_bucket_bytes', 'Bytes stored per bucket (sampled)', (b) => b.bytes),
        per('calypso_object_bucket_objects', 'Objects per bucket (sampled)', (b) => b.objects),
        per('calypso_object_bucket_quota_bytes', 'Bucket quota', (b) => b.quotaBytes || undefined),
      ],
    }),
  ];
}
