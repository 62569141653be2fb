/** Live job progress bars for calypsoctl (tables: human.ts). */
import cliProgress from 'cli-progress';
import type { AgentClient, AgentEventMessage } from '../rpc/client.js';

interface JobSummary {
  id: string;
  method: string;
  state: string;
  progress: { percent: number; description: string };
}

const FINAL = new Set(['success', 'failed', 'aborted', 'interrupted']);

/**
 * Follow running jobs (or one job) until they finish: progress bars for people, one JSON line
 * per progress event with --json.
 */
export async function watchJobs(c: AgentClient, json: boolean, only?: string): Promise<void> {
  await c.call('events.subscribe', { topics: ['job.progress'] });
  const running = only
    ? [await c.call<JobSummary>('job.get', { id: only })]
    : (await c.call<{ items: JobSummary[] }>('job.list', { state: 'running', limit: 100 })).items;
  const open = new Map(running.filter((j) => !FINAL.has(j.state)).map((j) => [j.id, j]));
  if (open.size === 0) {
    const j = running[0];
    if (only && j)
      console.log(
        json ? JSON.stringify(j) : `${only}: ${j.state} ${j.progress.percent}% ${j.progress.description}`,
      );
    else if (!json) console.log('no running jobs');
    return;
  }
  const multi = json
    ? undefined
    : new cliProgress.MultiBar(
        {
          format: ' {bar} {percentage}% | {id} {method} | {description}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
  const bars = new Map<string, cliProgress.SingleBar>();
  for (const j of open.values()) {
    const bar = multi?.create(100, j.progress.percent, {
      id: j.id,
      method: j.method,
      description: j.progress.description,
    });
    if (bar) bars.set(j.id, bar);
  }
  await new Promise<void>((resolve) => {
    c.on('event', (ev: AgentEventMessage) => {
      const j = ev.data as JobSummary;
      if (!open.has(j.id)) return;
      if (json) console.log(JSON.stringify(j));
      else
        bars.get(j.id)?.update(j.progress.percent, { description: `${j.progress.description} [${j.state}]` });
      if (FINAL.has(j.state)) {
        open.delete(j.id);
        if (open.size === 0) resolve();
      }
    });
    void c.closed.then(() => resolve());
  });
  multi?.stop();
}
