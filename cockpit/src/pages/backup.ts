/**
 * Backup (Bacula): run a configured job now with a live progress bar (job.progress events carry
 * files, bytes and rate) and cancel it; the catalog's job history, paged; the restore wizard at
 * #/backup/restore[/<jobId>]; the clients, schedules and volumes. When Bacula is not installed or
 * the director is down, the agent answers `unavailable` and the page says so in plain words.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { AgentError } from '../rpc/errors.js';
import '../components/error-alert.js';
import { cockpit } from '../cockpit.js';
import { tableHead } from '../components/list-table.js';
import { jobProgress } from '../components/progress-bar.js';
import { SubRoute } from '../components/sub-route.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  BACKUP_TOPICS,
  type BackupJob,
  baculaJobId,
  cancelBackup,
  type DaemonStatus,
  daemonStatus,
  HISTORY_PAGE,
  listClients,
  listHistory,
  listJobDefs,
  listSchedules,
  listUpcoming,
  listVolumes,
  runBackup,
  runningJobId,
  statusClass,
} from '../data/backup.js';
import { isFinal, type JobSummary, SeenJobs, watchJobs } from '../data/jobs.js';
import { formatDate } from '../format.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';
import './backup-restore.js';

@customElement('cal-backup')
export class BackupPage extends LitElement {
  static override styles = [
    base,
    css`
      .run {
        display: flex;
        gap: 0.75rem;
        align-items: end;
        flex-wrap: wrap;
      }
      .live {
        margin-top: 0.75rem;
      }
      ul.daemons {
        list-style: none;
        padding: 0;
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1.5rem;
      }
      .pager {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.5rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  private route = new SubRoute(this);
  @state() private offset = 0;
  @state() private chosenJob = '';
  /** the backup started from this page, as the last event told */
  @state() private running: JobSummary | undefined;
  @state() private runError: unknown;
  /** Bacula's job id of the running backup, from its first progress text (later texts omit it) */
  private baculaId: number | undefined;
  private runName = '';
  /** the last live text (files, bytes, rate): the final event only says "done" */
  private lastLive = '';
  private seen = new SeenJobs();
  private offs: (() => void)[] = [];

  private daemons = new Task(this, {
    task: ([c], { signal }) => daemonStatus(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private defs = new Task(this, {
    task: ([c], { signal }) => listJobDefs(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private history = new Task(this, {
    task: ([c, offset], { signal }) =>
      listHistory(c as AgentClient, { offset: offset as number, limit: HISTORY_PAGE }, { signal }),
    args: () => [this.client, this.offset] as const,
  });
  private clients = new Task(this, {
    task: ([c], { signal }) => listClients(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private schedules = new Task(this, {
    task: ([c], { signal }) => listSchedules(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private upcoming = new Task(this, {
    task: ([c], { signal }) => listUpcoming(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private volumes = new Task(this, {
    task: ([c], { signal }) => listVolumes(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.offs.push(
      // a short job can finish before backup.run's answer arrives: seen remembers
      watchJobs(this.client, this.seen, (j) => {
        if (this.running?.id === j.id) this.track(j);
      }),
      this.client.on(BACKUP_TOPICS, () => {
        void this.history.run();
        void this.volumes.run();
      }),
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
  }

  private track(j: JobSummary) {
    this.baculaId ??= baculaJobId(j.progress.description);
    this.running = j;
    if (!isFinal(j.state) && j.progress.description) this.lastLive = j.progress.description;
    if (isFinal(j.state)) {
      void this.history.run();
      void this.volumes.run();
    }
  }

  private async runNow() {
    const name = this.chosenJob || this.backupDefs()[0]?.name;
    if (!name) return;
    this.runError = undefined;
    this.baculaId = undefined;
    this.lastLive = '';
    this.runName = name;
    try {
      const job = await runBackup(this.client, name);
      this.track(this.seen.latest(job));
    } catch (e) {
      this.runError = e;
    }
  }

  private async cancel() {
    this.runError = undefined;
    try {
      // the id is in the first progress text; if that event was missed, ask the catalog
      const id = this.baculaId ?? (await runningJobId(this.client, this.runName));
      if (id === undefined) return;
      await cancelBackup(this.client, id);
    } catch (e) {
      this.runError = e;
    }
  }

  private backupDefs() {
    return (this.defs.value ?? []).filter((d) => d.type === 'backup');
  }

  override render() {
    if (this.route.path[0] === 'restore') {
      return html`<cal-backup-restore
        .jobId=${this.route.path[1] ? Number(this.route.path[1]) : undefined}
        @done=${() => {
          cockpit.location.go(['backup']);
          void this.history.run();
        }}
        @cancel=${() => cockpit.location.go(['backup'])}
      ></cal-backup-restore>`;
    }
    return html`<div class="toolbar">
        <h2>${_('Backup')}</h2>
        <span class="spacer"></span>
        <button @click=${() => cockpit.location.go(['backup', 'restore'])}>${_('Restore…')}</button>
      </div>
      ${this.renderDaemons()} ${this.renderRun()} ${this.renderHistory()}
      <div class="grid">
        <section class="card" aria-labelledby="bk-clients">
          <h3 id="bk-clients">${_('Clients')}</h3>
          ${renderTask(this.clients, (items) =>
            this.table(
              'clients',
              [_('Name'), _('Address'), _('Port')],
              items.map((c) => [
                c.name + (c.builtin ? ` (${_('this appliance')})` : ''),
                c.address,
                String(c.port),
              ]),
            ),
          )}
        </section>
        <section class="card" aria-labelledby="bk-schedules">
          <h3 id="bk-schedules">${_('Schedules')}</h3>
          ${renderTask(this.schedules, (items) =>
            items.length === 0
              ? html`<p class="empty">${_('No schedules: jobs run only when started.')}</p>`
              : this.table(
                  'schedules',
                  [_('Name'), _('Runs')],
                  items.map((s) => [
                    s.name,
                    s.runs
                      .map((r) => [r.level, r.pool ? `pool=${r.pool}` : '', r.when].filter(Boolean).join(' '))
                      .join('; '),
                  ]),
                ),
          )}
          <h4>${_('Next runs')}</h4>
          ${renderTask(this.upcoming, (u) =>
            u.runs.length === 0
              ? html`<p class="empty">
                  ${u.error ? format(_('The director cannot be asked: $0'), u.error) : _('None in the next 24 hours.')}
                </p>`
              : html`<ul class="upcoming">
                  ${u.runs.map(
                    (r) =>
                      html`<li data-upcoming=${r.job}>${formatDate(r.at)} · ${r.job}${r.level ? ` · ${r.level}` : ''}</li>`,
                  )}
                </ul>
                <p class="muted">
                  ${_('A run that has not started within the grace of the alert rules (backupMissedMinutes, 60 by default) raises an alert.')}
                </p>`,
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="bk-volumes">
        <h3 id="bk-volumes">${_('Volumes')}</h3>
        ${renderTask(this.volumes, (items) =>
          items.length === 0
            ? html`<p class="empty">${_('No volumes yet: disk pools label them on the first backup.')}</p>`
            : this.table(
                'volumes',
                [_('Name'), _('Status'), _('Pool'), _('Storage'), _('Jobs'), _('Size'), _('Last written')],
                items.map((v) => [
                  v.name,
                  v.status,
                  v.pool ?? '',
                  v.storage ?? '',
                  String(v.jobs),
                  formatBytes(v.bytes),
                  v.lastWritten ?? '',
                ]),
              ),
        )}
      </section>`;
  }

  private renderDaemons() {
    const one = (d: DaemonStatus, what: string) =>
      html`<li data-daemon=${d.name} data-up=${d.up}>
        <span class=${d.up ? 'badge ok' : 'badge bad'}>${d.up ? _('running') : _('not reachable')}</span>
        ${what} ${d.name}
        ${d.up ? (d.header?.version ? html`<span class="muted">${d.header.version}</span>` : nothing) : html`<span class="muted">— ${d.error ?? ''}</span>`}
      </li>`;
    return html`<section class="card" aria-labelledby="bk-daemons">
      <h3 id="bk-daemons">${_('Bacula')}</h3>
      ${this.daemons.render({
        initial: () => html`<p class="muted" aria-busy="true">${_('Loading…')}</p>`,
        pending: () => html`<p class="muted" aria-busy="true">${_('Loading…')}</p>`,
        // director down or Bacula not installed → `unavailable` with the reason: a warning, and the
        // rest of the page still shows what the catalog and the stored configuration hold
        error: (e) =>
          html`<cal-error tone="warn" data-daemons-error .error=${e}></cal-error>
            <p>${_('Backups and restores cannot start now. The job history below comes from the catalog.')}</p>`,
        complete: (s) =>
          html`${
            s.director.up
              ? nothing
              : // backup.status reports a director that is down (it does not refuse): said once, in words
                html`<cal-error
                    tone="warn"
                    data-daemons-error
                    .error=${new AgentError(`Bacula is not available: ${s.director.error ?? 'the director is down'}`, 'unavailable', -32011, { reason: s.director.error })}
                  ></cal-error>
                  <p>${_('Backups and restores cannot start now. The job history below comes from the catalog.')}</p>`
          }
            <ul class="daemons">
              ${one(s.director, _('Director'))} ${s.storages.map((d) => one(d, _('Storage')))}
              ${s.clients.map((d) => one(d, _('Client')))}
            </ul>`,
      })}
    </section>`;
  }

  private table(kind: string, head: string[], rows: string[][]) {
    return html`<table data-list=${kind}>
      <thead>
        <tr>
          ${head.map((h) => html`<th scope="col">${h}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map((r) => html`<tr data-name=${r[0] ?? ''}>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}
      </tbody>
    </table>`;
  }

  private renderRun() {
    const j = this.running;
    const active = j !== undefined && !isFinal(j.state);
    return html`<section class="card" aria-labelledby="bk-run">
      <h3 id="bk-run">${_('Run a job')}</h3>
      ${renderTask(this.defs, () => {
        const defs = this.backupDefs();
        if (defs.length === 0) return html`<p class="empty">${_('No backup jobs are configured.')}</p>`;
        return html`<div class="run">
          <div class="field">
            <label for="bk-job">${_('Job')}</label>
            <select id="bk-job" @change=${(e: Event) => (this.chosenJob = (e.target as HTMLSelectElement).value)}>
              ${defs.map(
                (d) =>
                  html`<option value=${d.name} ?selected=${d.name === this.chosenJob}>
                    ${d.name} — ${d.client ?? ''} ${d.fileset ?? ''}
                  </option>`,
              )}
            </select>
          </div>
          <button class="primary" data-action="run" ?disabled=${active} @click=${() => this.runNow()}>
            ${_('Run now')}
          </button>
          ${
            active
              ? html`<button class="danger" data-action="cancel" @click=${() => this.cancel()}>
                  ${_('Cancel')}
                </button>`
              : nothing
          }
        </div>`;
      })}
      <cal-error .error=${this.runError}></cal-error>
      ${
        j
          ? html`<div class="live">
              ${jobProgress(j, 'backup-run', _('Backup progress'), isFinal(j.state) ? `${_(j.state)} · ${this.lastLive || j.progress.description}` : j.progress.description)}
              ${j.error ? html`<cal-error .error=${j.error}></cal-error>` : nothing}
            </div>`
          : nothing
      }
    </section>`;
  }

  private renderHistory() {
    return html`<section class="card" aria-labelledby="bk-history">
      <h3 id="bk-history">${_('Jobs')}</h3>
      ${renderTask(this.history, (h) =>
        h.total === 0
          ? html`<p class="empty">${_('No jobs in the catalog yet.')}</p>`
          : html`<table data-list="history">
                ${tableHead([_('Id'), _('Name'), _('Type'), _('Level'), _('Status'), _('Started'), _('Files'), _('Size')], true)}
                <tbody>
                  ${h.items.map((j) => this.renderJob(j))}
                </tbody>
              </table>
              <div class="pager">
                <button ?disabled=${this.offset === 0} @click=${() => (this.offset = Math.max(0, this.offset - HISTORY_PAGE))}>
                  ${_('Newer')}
                </button>
                <span class="muted">
                  ${format(_('$0–$1 of $2'), this.offset + 1, this.offset + h.items.length, h.total)}
                </span>
                <button
                  ?disabled=${this.offset + HISTORY_PAGE >= h.total}
                  @click=${() => (this.offset += HISTORY_PAGE)}
                >
                  ${_('Older')}
                </button>
              </div>`,
      )}
    </section>`;
  }

  private renderJob(j: BackupJob) {
    const restorable = j.type === 'backup' && (j.status === 'success' || j.status === 'warning');
    return html`<tr data-job=${j.jobId} data-status=${j.status}>
      <td class="num">${j.jobId}</td>
      <td>${j.name}</td>
      <td>${j.type}</td>
      <td>${j.level ?? ''}</td>
      <td><span class=${statusClass(j.status)}>${_(j.status)}</span></td>
      <td>${formatDate(j.started)}</td>
      <td class="num">${j.files}</td>
      <td class="num">${formatBytes(j.bytes)}</td>
      <td>
        ${
          restorable
            ? html`<button class="link" @click=${() => cockpit.location.go(['backup', 'restore', String(j.jobId)])}>
                ${format(_('Restore from $0'), j.jobId)}
              </button>`
            : nothing
        }
      </td>
    </tr>`;
  }
}
