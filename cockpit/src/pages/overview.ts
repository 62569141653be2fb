/** Overview: health at a glance, alerts, capacity and I/O per pool, recent jobs (live). */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import '../components/capacity-chart.js';
import '../components/io-chart.js';
import '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { listDisks } from '../data/disks.js';
import { addSample, type IoPoint, type PoolIo, poolIostat } from '../data/iostat.js';
import { isFinal, JOB_TOPICS, type Job, type JobSummary, listJobs } from '../data/jobs.js';
import { isHealthy, listPoolAlerts, listPools, POOL_TOPICS } from '../data/pools.js';
import { formatDate } from '../format.js';
import { _, format, formatBytes, ngettext } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, healthClass } from '../styles.js';

@customElement('cal-overview')
export class OverviewPage extends LitElement {
  static override styles = [base];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private live = new Map<string, JobSummary>();
  @state() private io: IoPoint[] = [];
  @state() private ioPools: PoolIo[] = [];
  @state() private ioError: string | undefined;
  private ioAbort: AbortController | undefined;
  private offs: (() => void)[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  private pools = new Task(this, {
    task: ([c], { signal }) => listPools(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private disks = new Task(this, {
    task: ([c], { signal }) => listDisks(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private jobs = new Task(this, {
    task: ([c], { signal }) => listJobs(c as AgentClient, { limit: 8 }, { signal }),
    args: () => [this.client] as const,
  });
  private alerts = new Task(this, {
    task: ([c], { signal }) => listPoolAlerts(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.offs.push(
      this.client.on(JOB_TOPICS, (ev) => {
        const j = ev.data as JobSummary;
        this.live = new Map(this.live).set(j.id, j);
        if (!this.jobs.value?.items.some((x) => x.id === j.id) || isFinal(j.state)) this.refreshSoon();
      }),
      this.client.on(POOL_TOPICS, () => this.refreshSoon()),
    );
    void this.sampleIo();
  }

  /**
   * While the page is shown: one `pool.iostat` after the other (1 s first, so the chart starts
   * at once, then 5 s intervals), each answer a point of the chart. The agent shares a sample
   * between identical requests, so several open pages cost one `zpool iostat`.
   */
  private async sampleIo() {
    this.ioAbort?.abort();
    const ac = new AbortController();
    this.ioAbort = ac;
    let seconds = 1;
    while (!ac.signal.aborted) {
      try {
        const s = await poolIostat(this.client, seconds, { signal: ac.signal });
        this.io = addSample(this.io, s);
        this.ioPools = s.pools;
        this.ioError = undefined;
        seconds = 5;
      } catch (err) {
        if (ac.signal.aborted) return;
        this.ioError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 15_000)); // unavailable (no ZFS): ask again later
      }
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
    clearTimeout(this.refreshTimer);
    this.ioAbort?.abort();
  }

  private refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      void this.pools.run();
      void this.jobs.run();
      void this.alerts.run();
    }, 500);
  }

  override render() {
    return html`<h2>${_('Overview')}</h2>
      <div class="grid">
        <section class="card" aria-labelledby="h-pools">
          <h3 id="h-pools">${_('Pools')}</h3>
          ${renderTask(this.pools, (pools) => {
            // "Healthy · 0 pools" read as if something were there and fine: say there is nothing
            if (pools.length === 0)
              return html`<p>
                <span class="badge">${_('No pools')}</span>
                <a href="#/pools">${_('Create a pool')}</a>
              </p>`;
            const bad = pools.filter((p) => !isHealthy(p.health));
            return html`<p>
                <span class=${bad.length ? 'badge bad' : 'badge ok'}>${bad.length ? _('Attention') : _('Healthy')}</span>
                ${format(ngettext('$0 pool', '$0 pools', pools.length), pools.length)}
              </p>
              ${bad.map((p) => html`<p><span class=${healthClass(p.health)}>${p.health}</span> ${p.name}</p>`)}`;
          })}
        </section>
        <section class="card" aria-labelledby="h-disks">
          <h3 id="h-disks">${_('Disks')}</h3>
          ${renderTask(this.disks, (disks) => {
            const inEnclosures = disks.filter((d) => d.enclosure).length;
            const totalBytes = disks.reduce((n, d) => n + d.size, 0);
            return html`<p>
              ${format(ngettext('$0 disk', '$0 disks', disks.length), disks.length)} · ${formatBytes(totalBytes)}
              ${inEnclosures ? html`<span class="muted">${format(_('($0 in enclosures)'), inEnclosures)}</span>` : nothing}
            </p>`;
          })}
        </section>
        <section class="card" aria-labelledby="h-alerts">
          <h3 id="h-alerts">${_('Alerts')}</h3>
          ${renderTask(this.alerts, (alerts) =>
            alerts.length === 0
              ? html`<p class="muted">${_('No alerts.')}</p>`
              : html`<ul>
                  ${alerts.slice(0, 6).map(
                    (a) =>
                      html`<li>
                        <span class=${a.severity === 'critical' ? 'badge bad' : a.severity === 'warning' ? 'badge warn' : 'badge'}
                          >${a.severity}</span
                        >
                        ${a.message} <span class="muted">${formatDate(a.time)}</span>
                      </li>`,
                  )}
                </ul>`,
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="h-cap">
        <h3 id="h-cap">${_('Capacity per pool')}</h3>
        ${renderTask(
          this.pools,
          (pools) =>
            html`<cal-capacity-chart
              .items=${pools.map((p) => ({ name: p.name, used: p.allocated ?? 0, size: p.size ?? 0, health: p.health }))}
            ></cal-capacity-chart>`,
        )}
      </section>
      <section class="card" aria-labelledby="h-io">
        <h3 id="h-io">${_('Pool I/O')}</h3>
        ${
          this.ioError && this.io.length === 0
            ? html`<p class="muted">${this.ioError}</p>`
            : html`<cal-io-chart .points=${this.io} .pools=${this.ioPools}></cal-io-chart>`
        }
      </section>
      <section class="card" aria-labelledby="h-jobs">
        <h3 id="h-jobs">${_('Recent jobs')}</h3>
        ${renderTask(this.jobs, (page) => this.renderJobs(page.items))}
      </section>`;
  }

  private renderJobs(items: Job[]) {
    if (items.length === 0) return html`<p class="muted">${_('No jobs yet.')}</p>`;
    return html`<table>
      <thead>
        <tr>
          <th>${_('Job')}</th>
          <th>${_('State')}</th>
          <th>${_('Progress')}</th>
          <th>${_('Started')}</th>
        </tr>
      </thead>
      <tbody>
        ${items.map((j) => {
          const live = this.live.get(j.id);
          const state = live?.state ?? j.state;
          const progress = live?.progress ?? j.progress;
          return html`<tr>
            <td>${j.method}</td>
            <td><span class=${healthClass(state)}>${state}</span></td>
            <td>
              ${
                isFinal(state)
                  ? nothing
                  : html`<cal-progress
                    .value=${progress.percent}
                    .description=${progress.description}
                    label=${j.method}
                  ></cal-progress>`
              }
            </td>
            <td>${formatDate(j.startedAt ?? j.createdAt)}</td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }
}
