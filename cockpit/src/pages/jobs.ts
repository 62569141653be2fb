/** Jobs: every long operation with live progress (job.* events), its log, and abort. */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { confirmAction } from '../components/confirm-dialog.js';
import '../components/error-alert.js';
import '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { abortJob, getJob, isFinal, JOB_TOPICS, type Job, type JobSummary, listJobs } from '../data/jobs.js';
import { formatDate } from '../format.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, healthClass } from '../styles.js';

@customElement('cal-jobs')
export class JobsPage extends LitElement {
  static override styles = [
    base,
    css`
      td.progress {
        min-width: 14rem;
      }
      pre.log {
        max-height: 16rem;
        overflow: auto;
        background: var(--cal-bg-subtle);
        padding: 0.5rem;
        margin: 0;
        font-size: 0.85rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private live = new Map<string, JobSummary>();
  @state() private open: string | undefined;
  @state() private detail: Job | undefined;
  @state() private error: unknown;
  private off: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  private jobs = new Task(this, {
    task: ([c], { signal }) => listJobs(c as AgentClient, { limit: 100 }, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = this.client.on(JOB_TOPICS, (ev) => {
      const j = ev.data as JobSummary;
      this.live = new Map(this.live).set(j.id, j);
      const known = this.jobs.value?.items.some((x) => x.id === j.id);
      if (!known || isFinal(j.state)) this.refreshSoon();
      if (this.open === j.id) void this.loadDetail(j.id);
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    clearTimeout(this.timer);
  }

  private refreshSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.jobs.run(), 300);
  }

  private async loadDetail(id: string) {
    try {
      this.detail = await getJob(this.client, id);
    } catch (e) {
      this.error = e;
    }
  }

  private async abort(j: Job) {
    const ok = await confirmAction({
      title: format(_('Abort $0?'), j.method),
      body: _('The work stops where it is; what has been done so far stays done.'),
      action: _('Abort'),
      danger: true,
    });
    if (!ok) return;
    this.error = undefined;
    try {
      await abortJob(this.client, j.id);
    } catch (e) {
      this.error = e;
    }
  }

  override render() {
    return html`<div class="toolbar">
        <h2>${_('Jobs')}</h2>
        <span class="spacer"></span>
        <button class="link" @click=${() => void this.jobs.run()}>${_('Refresh')}</button>
      </div>
      <cal-error .error=${this.error}></cal-error>
      ${renderTask(this.jobs, (page) =>
        page.items.length === 0
          ? html`<p class="card empty">${_('No jobs yet.')}</p>`
          : this.renderTable(page.items),
      )}`;
  }

  private renderTable(items: Job[]) {
    return html`<table>
      <thead>
        <tr>
          <th>${_('Job')}</th>
          <th>${_('User')}</th>
          <th>${_('State')}</th>
          <th>${_('Progress')}</th>
          <th>${_('Started')}</th>
          <th><span class="sr-only">${_('Actions')}</span></th>
        </tr>
      </thead>
      <tbody>
        ${items.map((j) => {
          const l = this.live.get(j.id);
          const st = l?.state ?? j.state;
          const pr = l?.progress ?? j.progress;
          return html`<tr data-job=${j.id}>
              <td>${j.method}</td>
              <td>${j.user ?? ''}</td>
              <td><span class=${healthClass(st)}>${st}</span></td>
              <td class="progress">
                <cal-progress .value=${pr.percent} .description=${pr.description} state=${st} label=${j.method}></cal-progress>
              </td>
              <td>${formatDate(j.startedAt ?? j.createdAt)}</td>
              <td>
                <button
                  class="link"
                  aria-expanded=${this.open === j.id ? 'true' : 'false'}
                  @click=${() => {
                    this.open = this.open === j.id ? undefined : j.id;
                    this.detail = undefined;
                    if (this.open) void this.loadDetail(j.id);
                  }}
                >
                  ${_('Log')}
                </button>
                ${isFinal(st) ? nothing : html`<button class="link" @click=${() => this.abort(j)}>${_('Abort')}</button>`}
              </td>
            </tr>
            ${
              this.open === j.id
                ? html`<tr>
                  <td colspan="6">
                    ${
                      this.detail
                        ? html`<pre class="log">${(this.detail.log ?? []).map((x) => `${formatDate(x.time)}  ${x.message}`).join('\n')}</pre>
                          ${this.detail.error ? html`<cal-error .error=${this.detail.error}></cal-error>` : nothing}`
                        : html`<p class="muted">${_('Loading…')}</p>`
                    }
                  </td>
                </tr>`
                : nothing
            }`;
        })}
      </tbody>
    </table>`;
  }
}
