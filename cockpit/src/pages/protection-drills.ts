/**
 * Data protection, second half: restore drills (last result, run now with a progress bar, the
 * report with the names of the files that failed) and the maintenance calendar (what runs when,
 * how it last ended). A finished drill reloads both, and the report on screen.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { tableHead } from '../components/list-table.js';
import { emptyState, unavailableBanner } from '../components/page-state.js';
import { jobProgress } from '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { isFinal, type JobSummary, SeenJobs } from '../data/jobs.js';
import {
  type Calendar,
  calendar,
  DRILL_LOCK,
  DRILL_METHOD,
  type Drill,
  type DrillReport,
  drillReport,
  followOwnedJobs,
  JobOwners,
  listDrills,
  runDrill,
} from '../data/protection.js';
import { formatDate } from '../format.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';
import { sectionDown } from './protection-state.js';

@customElement('cal-protection-drills')
export class ProtectionDrills extends LitElement {
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
  /** the drill whose report is open */
  @state() private shown: string | undefined;
  @state() private runs = new Map<string, JobSummary>();
  @state() private error: unknown;
  /** made once the client is there (it comes through the context when connected) */
  private owners!: JobOwners;
  private seen = new SeenJobs();
  private offs: (() => void)[] = [];

  private drills = new Task(this, {
    task: ([c], { signal }) => listDrills(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private calendar = new Task(this, {
    task: ([c], { signal }) => calendar(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private report = new Task(this, {
    task: ([c, name], { signal }) =>
      name ? drillReport(c as AgentClient, name as string, { signal }) : Promise.resolve(undefined),
    args: () => [this.client, this.shown] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.owners = new JobOwners(this.client, DRILL_METHOD, DRILL_LOCK);
    this.offs.push(followOwnedJobs(this.client, this.owners, this.seen, (o, j) => this.track(o, j)));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
  }

  private track(name: string, j: JobSummary) {
    this.runs = new Map(this.runs).set(name, j);
    if (isFinal(j.state)) {
      void this.drills.run();
      void this.calendar.run();
      if (this.shown === name) void this.report.run();
    }
  }

  private async run(d: Drill) {
    this.error = undefined;
    try {
      const { job } = await runDrill(this.client, d.name);
      this.owners.set(job, d.name);
      this.track(d.name, this.seen.started(job, 'backup.drill.run'));
    } catch (e) {
      this.error = e;
    }
  }

  override render() {
    const down = sectionDown(this.drills);
    return html`<section class="card" aria-labelledby="dp-drills">
        <h3 id="dp-drills">${_('Restore drills')}</h3>
        ${unavailableBanner(_('Restore drills'), down, _('Drills need Bacula (docs/backup.md, docs/drills.md).'))}
        <cal-error .error=${this.error}></cal-error>
        ${down ? nothing : renderTask(this.drills, (items) => this.renderDrills(items), { quietUnavailable: true })}
        ${this.shown ? html`<div class="report">${renderTask(this.report, (r) => (r ? this.renderReport(r) : ''))}</div>` : nothing}
      </section>
      <section class="card" aria-labelledby="dp-calendar">
        <h3 id="dp-calendar">${_('Calendar')}</h3>
        ${renderTask(this.calendar, (c) => this.renderCalendar(c))}
      </section>`;
  }

  private renderDrills(items: Drill[]) {
    if (items.length === 0)
      return emptyState(
        _('No restore drills: create one for a backup job (calypsoctl backup drill create, docs/drills.md).'),
      );
    return html`<table data-list="drills">
      ${tableHead([_('Name'), _('Backup job'), _('Schedule'), _('Last run'), _('Result'), _('Next run')], true)}
      <tbody>
        ${items.map((d) => {
          const job = this.runs.get(d.name);
          const active = job !== undefined && !isFinal(job.state);
          return html`<tr data-drill=${d.name} data-result=${d.last?.result ?? 'never'}>
            <td>${d.name}</td>
            <td>${d.job}</td>
            <td>${d.schedule ?? _('by hand')}${d.sample ? html` <span class="muted">(${format(_('$0 files'), d.sample)})</span>` : nothing}</td>
            <td>${d.last ? formatDate(d.last.at) : _('never')}</td>
            <td>
              ${
                d.last
                  ? html`<span class=${d.last.result === 'passed' ? 'badge ok' : 'badge bad'}>${_(d.last.result)}</span>
                      <span class="muted">${format(_('$0 checked, $1 failed'), d.last.checked, d.last.failed)}</span>`
                  : nothing
              }
              ${jobProgress(job, 'drill-run', format(_('Drill $0'), d.name))}
            </td>
            <td>${d.enabled ? formatDate(d.nextRun) : _('disabled')}</td>
            <td>
              <button data-action="run-drill" ?disabled=${active} @click=${() => this.run(d)}>${_('Run now')}</button>
              ${
                d.last
                  ? html`<button
                      class="link"
                      data-action="report"
                      aria-pressed=${this.shown === d.name}
                      @click=${() => (this.shown = this.shown === d.name ? undefined : d.name)}
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

  private renderReport(r: DrillReport) {
    const bad = (r.files ?? []).filter((f) => f.result !== 'ok');
    return html`<section data-report=${r.drill} data-result=${r.result} aria-label=${format(_('Report of $0'), r.drill)}>
      <h4>
        ${format(_('Report of $0, $1'), r.drill, formatDate(r.at))}
        <span class=${r.result === 'passed' ? 'badge ok' : 'badge bad'}>${_(r.result)}</span>
      </h4>
      <p>${r.message}</p>
      <p class="muted">
        ${format(_('Backup $0 ($1), restore job $2: $3; $4 files checked ($5), $6 failed.'), r.backupJobId, r.job, r.restoreJobId ?? '—', r.restoreStatus, r.checked, r.algorithm, r.failed)}
      </p>
      ${
        bad.length
          ? html`<ul class="failed">
              ${bad.map((f) => html`<li data-failed-file=${f.path}><code>${f.path}</code> — ${_(f.result)}</li>`)}
            </ul>`
          : nothing
      }
    </section>`;
  }

  private renderCalendar(c: Calendar) {
    const errors = c.errors ?? [];
    return html`${errors.map((e) => html`<p class="muted" data-calendar-error=${e.source}>${format(_('$0 could not answer: $1'), e.source, e.error)}</p>`)}
    ${
      c.items.length === 0
        ? emptyState(
            _('Nothing is scheduled: drills (and later other maintenance) appear here with their next run.'),
          )
        : html`<table data-list="calendar">
            ${tableHead([_('What'), _('Kind'), _('Schedule'), _('Next run'), _('Last run')])}
            <tbody>
              ${c.items.map(
                (
                  i,
                ) => html`<tr data-calendar=${`${i.source}:${i.id}`} data-result=${i.lastRun?.result ?? 'never'}>
                  <td>${i.title}</td>
                  <td>${i.source}</td>
                  <td>${i.schedule ?? _('by hand')}</td>
                  <td>${i.enabled ? formatDate(i.nextRun) : _('disabled')}</td>
                  <td>
                    ${
                      i.lastRun
                        ? html`<span class=${i.lastRun.result === 'success' ? 'badge ok' : 'badge bad'}>${_(i.lastRun.result)}</span>
                            ${formatDate(i.lastRun.at)} <span class="muted">${i.lastRun.summary ?? ''}</span>`
                        : _('never')
                    }
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`
    }`;
  }
}
