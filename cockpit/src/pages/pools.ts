/**
 * Pools: each pool with health, capacity, errors, its vdev tree and scrub status; scrub with a
 * live progress bar (job.progress events, and zpool status while a scan runs); destroy behind a
 * confirmation that names the pool; the create-pool wizard at #/pools/create.
 */
import { consume } from '@lit/context';
import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { confirmAction } from '../components/confirm-dialog.js';
import { emptyState, unavailableBanner, unavailableReason } from '../components/page-state.js';
import '../components/error-alert.js';
import '../components/progress-bar.js';
import { SubRoute } from '../components/sub-route.js';
import { renderTask } from '../components/task-view.js';
import '../components/vdev-tree.js';
import { cockpit } from '../cockpit.js';
import { clientContext } from '../context.js';
import { isFinal, type JobSummary, SeenJobs, watchJobs } from '../data/jobs.js';
import { destroyPool, listPools, POOL_TOPICS, type Pool, scrubPool, stopScrub } from '../data/pools.js';
import { formatDate } from '../format.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, healthClass } from '../styles.js';
import './pool-wizard.js';

const SCAN_POLL_MS = 2000;

@customElement('cal-pools')
export class PoolsPage extends LitElement {
  static override styles = [
    base,
    css`
      .pool-head {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        flex-wrap: wrap;
      }
      .pool-head h3 {
        margin: 0;
        font-size: 1.125rem;
      }
      .scan {
        margin: 0.75rem 0;
      }
      details summary {
        cursor: pointer;
        color: var(--cal-link);
        margin: 0.5rem 0;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  /** scrub jobs started from this page, by pool */
  @state() private scrubJobs = new Map<string, JobSummary>();
  @state() private errors = new Map<string, unknown>();
  private route = new SubRoute(this);
  private offs: (() => void)[] = [];
  private seen = new SeenJobs();
  private poll: ReturnType<typeof setInterval> | undefined;

  private pools = new Task(this, {
    task: ([c], { signal }) => listPools(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.offs.push(
      // a short scrub can finish before pool.scrub's answer arrives: seen remembers
      watchJobs(this.client, this.seen, (j) => {
        for (const [pool, known] of this.scrubJobs) {
          if (known.id !== j.id) continue;
          this.scrubJobs = new Map(this.scrubJobs).set(pool, j);
          if (isFinal(j.state)) void this.pools.run();
        }
      }),
      this.client.on(POOL_TOPICS, () => void this.pools.run()),
    );
    // zpool status is the truth for scans started elsewhere (cron, another admin)
    this.poll = setInterval(() => {
      if (this.pools.value?.some((p) => p.scan.state === 'scanning')) void this.pools.run();
    }, SCAN_POLL_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
    clearInterval(this.poll);
  }

  private setError(pool: string, e: unknown) {
    const m = new Map(this.errors);
    if (e === undefined) m.delete(pool);
    else m.set(pool, e);
    this.errors = m;
  }

  private async scrub(p: Pool) {
    this.setError(p.name, undefined);
    try {
      const job = await scrubPool(this.client, p.name);
      const j = this.seen.latest(job);
      this.scrubJobs = new Map(this.scrubJobs).set(p.name, j);
      if (isFinal(j.state)) void this.pools.run();
    } catch (e) {
      this.setError(p.name, e);
    }
  }

  private async stop(p: Pool) {
    this.setError(p.name, undefined);
    try {
      await stopScrub(this.client, p.name);
      void this.pools.run();
    } catch (e) {
      this.setError(p.name, e);
    }
  }

  private async destroy(p: Pool) {
    const ok = await confirmAction({
      title: format(_('Destroy pool $0?'), p.name),
      body: format(
        _('Every dataset, volume and snapshot in $0 ($1 used) is destroyed. This cannot be undone.'),
        p.name,
        formatBytes(p.allocated),
      ),
      typeToConfirm: p.name,
      action: format(_('Destroy $0'), p.name),
      danger: true,
    });
    if (!ok) return;
    this.setError(p.name, undefined);
    try {
      await destroyPool(this.client, p.name);
      void this.pools.run();
    } catch (e) {
      this.setError(p.name, e);
    }
  }

  override render() {
    if (this.route.path[0] === 'create') {
      return html`<cal-pool-wizard
        @created=${() => {
          cockpit.location.go(['pools']);
          void this.pools.run();
        }}
        @cancel=${() => cockpit.location.go(['pools'])}
      ></cal-pool-wizard>`;
    }
    const down = this.pools.status === TaskStatus.ERROR ? unavailableReason(this.pools.error) : undefined;
    const create = () => cockpit.location.go(['pools', 'create']);
    return html`<div class="toolbar">
        <h2>${_('Pools')}</h2>
        <span class="spacer"></span>
        <button class="primary" data-action="create" ?disabled=${!!down} title=${down ?? nothing} @click=${create}>${_('Create pool')}</button>
      </div>
      ${unavailableBanner(_('ZFS'), down)}
      ${renderTask(
        this.pools,
        (pools) =>
          pools.length === 0
            ? emptyState(_('No pools yet: make one from the disks of this appliance.'), {
                label: _('Create pool'),
                run: create,
              })
            : html`${pools.map((p) => this.renderPool(p))}`,
        { quietUnavailable: true },
      )}`;
  }

  private renderPool(p: Pool) {
    const job = this.scrubJobs.get(p.name);
    const scanning = p.scan.state === 'scanning';
    const e = p.errors;
    return html`<section class="card" data-pool=${p.name} aria-labelledby=${`pool-${p.name}`}>
      <div class="pool-head">
        <h3 id=${`pool-${p.name}`}>${p.name}</h3>
        <span class=${healthClass(p.health)} data-health>${p.health}</span>
        <span class="muted">${formatBytes(p.allocated)} / ${formatBytes(p.size)} ${_('used')}</span>
        <span class="spacer"></span>
        ${
          scanning || (job && !isFinal(job.state))
            ? html`<button @click=${() => this.stop(p)}>${_('Stop scrub')}</button>`
            : html`<button @click=${() => this.scrub(p)}>${_('Scrub')}</button>`
        }
        <button class="danger" @click=${() => this.destroy(p)}>${_('Destroy')}</button>
      </div>
      <cal-error .error=${this.errors.get(p.name)}></cal-error>
      ${p.status ? html`<p><strong>${_('Status:')}</strong> ${p.status}</p>` : nothing}
      ${p.action ? html`<p><strong>${_('Action:')}</strong> ${p.action}</p>` : nothing}
      ${
        e.read || e.write || e.checksum || e.data
          ? html`<p class="badge bad">
            ${format(_('Errors: $0 read, $1 write, $2 checksum, $3 with data loss'), e.read, e.write, e.checksum, e.data)}
          </p>`
          : nothing
      }
      <div class="scan">${this.renderScan(p, job)}</div>
      <details open>
        <summary>${_('Devices')}</summary>
        <cal-vdev-tree .vdevs=${p.vdevs} pool=${p.name}></cal-vdev-tree>
      </details>
    </section>`;
  }

  private renderScan(p: Pool, job: JobSummary | undefined) {
    const s = p.scan;
    if (job) {
      // The job's own progress is live (events); when it has finished, show where the scan ended.
      const done = isFinal(job.state);
      return html`<cal-progress
          class="scrub"
          label=${format(_('Scrub of $0'), p.name)}
          .value=${done && job.state === 'success' ? 100 : job.progress.percent}
          .description=${done ? `${job.state} · ${job.progress.description}` : job.progress.description}
          state=${job.state}
        ></cal-progress>
        ${job.error ? html`<cal-error .error=${job.error}></cal-error>` : nothing}`;
    }
    if (s.state === 'scanning') {
      return html`<cal-progress
        class="scrub"
        label=${format(_('$0 of $1'), s.function ?? 'scan', p.name)}
        .value=${s.percent ?? 0}
        .description=${s.text}
        state="running"
      ></cal-progress>`;
    }
    if (s.state === 'finished' || s.state === 'canceled') {
      return html`<p class="muted">
        ${s.function ?? 'scan'} ${s.state} ${s.endedAt ? formatDate(s.endedAt) : ''}
        ${s.errors !== undefined ? format(_('with $0 errors'), s.errors) : ''}
      </p>`;
    }
    return html`<p class="muted">${_('Never scrubbed.')}</p>`;
  }
}
