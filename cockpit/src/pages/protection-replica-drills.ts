/**
 * Data protection: replica drills (docs/replication.md, "Replica drills"). One row per replication
 * task: its drill schedule, the last drill's result (entries compared, differences), "Check
 * replica" (replication.drill.run, a job with a progress bar; runs started elsewhere show up by
 * the job's lock) and the report with the files that differ between the source's snapshot and
 * the replica's.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { tableHead } from '../components/list-table.js';
import { emptyState } from '../components/page-state.js';
import { jobProgress } from '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { isFinal, type JobSummary, SeenJobs } from '../data/jobs.js';
import {
  followOwnedJobs,
  JobOwners,
  listTasks,
  REPLICA_DRILL_METHOD,
  REPLICATION_LOCK,
  type ReplicaDrillReport,
  type ReplicationTask,
  replicaDrillReports,
  runReplicaDrill,
  TASKS_CHANGED,
} from '../data/protection.js';
import { formatDate } from '../format.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';
import { sectionDown } from './protection-state.js';

interface Row {
  task: ReplicationTask;
  report: ReplicaDrillReport | undefined;
}

@customElement('cal-protection-replica-drills')
export class ProtectionReplicaDrills extends LitElement {
  static override styles = [
    base,
    css`
      ul.failed {
        margin: 0.25rem 0;
      }
      .report {
        margin-top: 1rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  /** the task whose last report is open */
  @state() private shown: string | undefined;
  @state() private runs = new Map<string, JobSummary>();
  @state() private error: unknown;
  private owners!: JobOwners;
  private seen = new SeenJobs();
  private offs: (() => void)[] = [];
  private reload = () => void this.rows.run();

  private rows = new Task(this, {
    task: async ([c], { signal }): Promise<Row[]> => {
      const client = c as AgentClient;
      const tasks = await listTasks(client, { signal });
      const reports = await replicaDrillReports(
        client,
        tasks.map((t) => t.id),
        { signal },
      );
      return tasks.map((task) => ({ task, report: reports.get(task.id) }));
    },
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    // a replica drill holds its task's lock (replication-task:<id>), as a replication run does
    this.owners = new JobOwners(this.client, REPLICA_DRILL_METHOD, REPLICATION_LOCK);
    this.offs.push(followOwnedJobs(this.client, this.owners, this.seen, (o, j) => this.track(o, j)));
    window.addEventListener(TASKS_CHANGED, this.reload);
    this.offs.push(() => window.removeEventListener(TASKS_CHANGED, this.reload));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
  }

  private track(task: string, j: JobSummary) {
    this.runs = new Map(this.runs).set(task, j);
    if (isFinal(j.state)) this.reload();
  }

  private async run(task: string) {
    this.error = undefined;
    try {
      const { job } = await runReplicaDrill(this.client, task);
      this.owners.set(job, task);
      this.track(task, this.seen.started(job, REPLICA_DRILL_METHOD));
    } catch (e) {
      this.error = e;
    }
  }

  override render() {
    const down = sectionDown(this.rows);
    return html`<section class="card" aria-labelledby="dp-replica-drills">
      <h3 id="dp-replica-drills">${_('Replica drills')}</h3>
      <cal-error .error=${this.error}></cal-error>
      ${down ? nothing : renderTask(this.rows, (rows) => this.renderRows(rows), { quietUnavailable: true })}
      ${this.shown ? this.renderReport(this.rows.value?.find((r) => r.task.id === this.shown)?.report) : nothing}
    </section>`;
  }

  private renderRows(rows: Row[]) {
    if (rows.length === 0)
      return emptyState(
        _(
          'No replication tasks: a replica drill checks a task’s replica against its source (docs/replication.md).',
        ),
      );
    return html`<table data-list="replica-drills">
      ${tableHead([_('Task'), _('Schedule'), _('Last drill'), _('Result')], true)}
      <tbody>
        ${rows.map(({ task, report }) => {
          const job = this.runs.get(task.id);
          const active = job !== undefined && !isFinal(job.state);
          return html`<tr data-replica-drill=${task.id} data-result=${report?.result ?? 'never'}>
            <td>${task.id}</td>
            <td>${task.drillSchedule ?? _('by hand')}</td>
            <td>${report ? formatDate(report.at) : _('never')}</td>
            <td>
              ${
                report
                  ? html`<span class=${report.result === 'passed' ? 'badge ok' : 'badge bad'}>${_(report.result)}</span>
                      <span class="muted">${format(_('$0 checked, $1 failed'), report.checked, report.failed)}</span>`
                  : nothing
              }
              ${jobProgress(job, 'replica-drill-run', format(_('Replica drill of $0'), task.id))}
            </td>
            <td>
              <button data-action="run-replica-drill" ?disabled=${active} @click=${() => this.run(task.id)}>
                ${_('Check replica')}
              </button>
              ${
                report
                  ? html`<button
                      class="link"
                      data-action="replica-report"
                      aria-pressed=${this.shown === task.id}
                      @click=${() => (this.shown = this.shown === task.id ? undefined : task.id)}
                    >
                      ${_('Report')}
                    </button>`
                  : nothing
              }
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }

  private renderReport(r: ReplicaDrillReport | undefined) {
    if (!r) return nothing;
    return html`<section
      class="report"
      data-replica-report=${r.task}
      data-result=${r.result}
      aria-label=${format(_('Replica drill report of $0'), r.task)}
    >
      <h4>
        ${format(_('Replica drill of $0, $1'), r.task, formatDate(r.at))}
        <span class=${r.result === 'passed' ? 'badge ok' : 'badge bad'}>${_(r.result)}</span>
      </h4>
      <p>${r.message}</p>
      <ul>
        ${r.datasets.map(
          (d) =>
            html`<li data-replica-dataset=${d.source}>
              <code>${d.source}@${d.snapshot}</code> → <code>${d.target}</code>:
              ${format(_('$0 files, $1'), d.files, formatBytes(d.bytes))}
            </li>`,
        )}
      </ul>
      ${
        r.differences.length
          ? html`<ul class="failed">
              ${r.differences.map(
                (f) =>
                  html`<li data-failed-file=${f.path || f.dataset}>
                    ${f.path ? html`<code>${f.path}</code> (${f.dataset})` : html`<code>${f.dataset}</code> (${_('the volume')})`}
                    — ${_(f.result)}${f.detail ? `: ${f.detail}` : ''}
                  </li>`,
              )}
            </ul>`
          : nothing
      }
    </section>`;
  }
}
