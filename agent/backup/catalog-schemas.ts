/**
 * The catalog's shapes, schema first: a job of the catalog, a job a daemon reports running, a
 * daemon's status and a volume. The parsers' types are these schemas' `Static` (one source).
 */
import { type Static, Type } from '@sinclair/typebox';

/** Bacula JobStatus codes grouped into what a person asks for. */
export const STATUS_GROUPS = {
  success: ['T'],
  warning: ['W'],
  error: ['E', 'e', 'f'],
  aborted: ['A'],
  incomplete: ['I'],
  differences: ['D'],
  running: ['R', 'B'],
  waiting: ['C', 'F', 'S', 'm', 'M', 's', 'j', 'c', 'd', 't', 'p', 'a', 'i'],
} as const;
export type StatusGroup = keyof typeof STATUS_GROUPS;

export const JobStatusSchema = Type.Union(
  [...(Object.keys(STATUS_GROUPS) as StatusGroup[]), 'unknown' as const].map((s) => Type.Literal(s)),
  { description: 'status group of the Bacula JobStatus code' },
);
export const JobItemSchema = Type.Object(
  {
    jobId: Type.Integer(),
    job: Type.String({ description: 'unique Bacula job name (name.date)' }),
    name: Type.String(),
    type: Type.String(),
    level: Type.Optional(Type.String()),
    status: JobStatusSchema,
    statusCode: Type.String({ description: 'Bacula JobStatus letter' }),
    client: Type.Optional(Type.String()),
    fileset: Type.Optional(Type.String()),
    pool: Type.Optional(Type.String()),
    scheduled: Type.Optional(Type.String()),
    started: Type.Optional(Type.String()),
    ended: Type.Optional(Type.String()),
    durationSec: Type.Optional(Type.Number()),
    files: Type.Integer(),
    bytes: Type.Integer(),
    errors: Type.Integer(),
    rate: Type.Optional(Type.Number({ description: 'bytes per second' })),
    priorJobId: Type.Optional(
      Type.Integer({ description: 'a copy or migration: the job it was copied from (catalog PriorJobId)' }),
    ),
  },
  { description: 'a job of the catalog' },
);
export type JobItem = Static<typeof JobItemSchema>;

/** A job a daemon reports running (`.status … running`, parse-bconsole.ts). */
export const RunningJobSchema = Type.Object({
  jobId: Type.Integer(),
  job: Type.String(),
  level: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  status: Type.Optional(Type.String()),
  files: Type.Number(),
  bytes: Type.Number(),
  rate: Type.Optional(Type.Number({ description: 'bytes per second as the daemon reports it' })),
  file: Type.Optional(Type.String()),
});
export type RunningJob = Static<typeof RunningJobSchema>;

export const DaemonStatusSchema = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('director'), Type.Literal('storage'), Type.Literal('client')]),
  up: Type.Boolean(),
  header: Type.Optional(
    Type.Object(
      {
        name: Type.String(),
        version: Type.String(),
        started: Type.Optional(Type.String()),
        reloaded: Type.Optional(Type.String()),
        pid: Type.Optional(Type.Integer()),
        jobsRun: Type.Optional(Type.Integer()),
        jobsRunning: Type.Optional(Type.Integer()),
      },
      { description: "the daemon's status header" },
    ),
  ),
  running: Type.Optional(Type.Array(RunningJobSchema)),
  error: Type.Optional(Type.String()),
});
/** A volume of the catalog. */
export const VolumeSchema = Type.Object({
  mediaId: Type.Integer(),
  name: Type.String(),
  status: Type.String({ description: 'Append, Full, Used, Recycle, Purged, Error, …' }),
  pool: Type.Optional(Type.String()),
  mediaType: Type.String(),
  storage: Type.Optional(Type.String()),
  bytes: Type.Number(),
  files: Type.Integer(),
  jobs: Type.Integer(),
  retentionDays: Type.Number(),
  recycle: Type.Boolean(),
  enabled: Type.Boolean(),
  slot: Type.Integer(),
  inChanger: Type.Boolean(),
  labelled: Type.Optional(Type.String()),
  lastWritten: Type.Optional(Type.String()),
});
export type Volume = Static<typeof VolumeSchema>;
