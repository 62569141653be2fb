/**
 * The restore wizard: 1. pick a finished backup job, 2. browse its catalog (backup.files) and
 * choose files or directories (none = the whole job), 3. the target path, 4. run backup.restore
 * and follow its progress. Emits `done` when the user goes back after a restore, `cancel` before.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { tableHead } from '../components/list-table.js';
import { jobProgress } from '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { type BackupFile, listFiles, listHistory, runRestore } from '../data/backup.js';
import { isFinal, type JobSummary, SeenJobs, watchJobs } from '../data/jobs.js';
import { formatDate } from '../format.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';

const PARENT = /[^/]+\/?$/;

@customElement('cal-backup-restore')
export class BackupRestoreWizard extends LitElement {
  static override styles = [
    base,
    css`
      ol.steps {
        display: flex;
        gap: 1.5rem;
        padding: 0;
        list-style: none;
      }
      ol.steps li[aria-current='step'] {
        font-weight: 600;
        color: var(--cal-primary);
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        margin-top: 1rem;
      }
      .cwd {
        font-family: monospace;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @property({ type: Number }) jobId: number | undefined;
  @state() private step = 1;
  @state() private cwd = '/';
  @state() private chosen = new Set<string>();
  @state() private where = '/tmp/bacula-restores';
  @state() private job: JobSummary | undefined;
  @state() private error: unknown;
  private seen = new SeenJobs();
  private off: (() => void) | undefined;

  private jobs = new Task(this, {
    task: ([c], { signal }) =>
      listHistory(c as AgentClient, { offset: 0, limit: 100 }, { signal }).then((h) =>
        h.items.filter((j) => j.type === 'backup' && (j.status === 'success' || j.status === 'warning')),
      ),
    args: () => [this.client] as const,
  });
  private files = new Task(this, {
    task: ([c, id, cwd, step], { signal }) =>
      step === 2 && id ? listFiles(c as AgentClient, id as number, cwd as string, { signal }) : undefined,
    args: () => [this.client, this.jobId, this.cwd, this.step] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.jobId) this.step = 2;
    this.off = watchJobs(this.client, this.seen, (j) => {
      if (this.job?.id === j.id) this.job = j;
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private toggle(path: string, on: boolean) {
    const s = new Set(this.chosen);
    if (on) s.add(path);
    else s.delete(path);
    this.chosen = s;
  }

  private async restore() {
    if (!this.jobId) return;
    this.error = undefined;
    try {
      const j = await runRestore(this.client, {
        jobId: this.jobId,
        where: this.where,
        files: [...this.chosen],
      });
      this.job = this.seen.latest(j);
      this.step = 4;
    } catch (e) {
      this.error = e;
    }
  }

  override render() {
    const steps = [_('Job'), _('Files'), _('Target'), _('Restore')];
    return html`<div class="toolbar">
        <h2>${_('Restore files')}</h2>
      </div>
      <section class="card" aria-labelledby="rs-title">
        <h3 id="rs-title" class="sr-only">${_('Restore wizard')}</h3>
        <ol class="steps">
          ${steps.map((s, i) => html`<li aria-current=${i + 1 === this.step ? 'step' : 'false'}>${i + 1}. ${s}</li>`)}
        </ol>
        ${[this.renderPick, this.renderFiles, this.renderTarget, this.renderProgress][this.step - 1]!.call(this)}
        <cal-error .error=${this.error}></cal-error>
      </section>`;
  }

  private renderPick() {
    return html`${renderTask(this.jobs, (jobs) =>
      jobs.length === 0
        ? html`<p class="empty">${_('No finished backup to restore from.')}</p>`
        : html`<div class="field">
              <label for="rs-job">${_('Backup job')}</label>
              <select
                id="rs-job"
                @change=${(e: Event) => (this.jobId = Number((e.target as HTMLSelectElement).value))}
              >
                <option value="">${_('Choose a job…')}</option>
                ${jobs.map(
                  (j) =>
                    html`<option value=${j.jobId} ?selected=${j.jobId === this.jobId}>
                      ${j.jobId} · ${j.name} · ${j.level ?? ''} · ${formatDate(j.started)} · ${formatBytes(j.bytes)}
                    </option>`,
                )}
              </select>
            </div>`,
    )}
      <div class="actions">
        <button @click=${() => this.dispatchEvent(new Event('cancel'))}>${_('Cancel')}</button>
        <button class="primary" ?disabled=${!this.jobId} @click=${() => (this.step = 2)}>${_('Next')}</button>
      </div>`;
  }

  private renderFiles() {
    return html`<p>
        ${format(_('Job $0, folder'), this.jobId)} <span class="cwd" data-cwd>${this.cwd}</span>
        ${
          this.cwd !== '/'
            ? html`<button class="link" data-action="up" @click=${() => (this.cwd = this.cwd.replace(PARENT, ''))}>
                ${_('Up one level')}
              </button>`
            : nothing
        }
      </p>
      ${renderTask(this.files, (r) =>
        !r || r.items.length === 0
          ? html`<p class="empty">${_('This folder is empty in the backup.')}</p>`
          : html`<table data-list="files">
              ${tableHead([_('Restore'), _('Name'), _('Type'), _('Size'), _('Modified')])}
              <tbody>
                ${r.items.map((f) => this.renderFile(f))}
              </tbody>
            </table>`,
      )}
      <p class="muted" data-chosen>
        ${
          this.chosen.size === 0
            ? _('Nothing chosen: the whole job is restored.')
            : format(_('$0 chosen: $1'), this.chosen.size, [...this.chosen].join(', '))
        }
      </p>
      <div class="actions">
        <button @click=${() => (this.step = 1)}>${_('Back')}</button>
        <button class="primary" @click=${() => (this.step = 3)}>${_('Next')}</button>
      </div>`;
  }

  private renderFile(f: BackupFile) {
    const dir = f.type === 'dir';
    return html`<tr data-path=${f.path}>
      <td>
        <input
          type="checkbox"
          aria-label=${format(_('Restore $0'), f.name)}
          .checked=${this.chosen.has(f.path)}
          @change=${(e: Event) => this.toggle(f.path, (e.target as HTMLInputElement).checked)}
        />
      </td>
      <td>
        ${dir ? html`<button class="link" data-open=${f.path} @click=${() => (this.cwd = f.path)}>${f.name}</button>` : f.name}
      </td>
      <td>${f.type}</td>
      <td>${dir ? '' : formatBytes(f.size)}</td>
      <td>${formatDate(f.mtime)}</td>
    </tr>`;
  }

  private renderTarget() {
    const ok = /^\/[^"\n]*$/.test(this.where);
    return html`<div class="field">
        <label for="rs-where">${_('Restore into this directory')}</label>
        <input
          id="rs-where"
          .value=${this.where}
          @input=${(e: Event) => (this.where = (e.target as HTMLInputElement).value)}
          aria-describedby="rs-where-help"
        />
        <span id="rs-where-help" class="help">
          ${_('An absolute path on the client; files keep their full path below it.')}
        </span>
      </div>
      <div class="actions">
        <button @click=${() => (this.step = 2)}>${_('Back')}</button>
        <button class="primary" data-action="restore" ?disabled=${!ok} @click=${() => this.restore()}>
          ${_('Restore')}
        </button>
      </div>`;
  }

  private renderProgress() {
    const j = this.job;
    if (!j) return nothing;
    return html`${jobProgress(j, 'restore-run', _('Restore progress'), isFinal(j.state) ? `${_(j.state)} · ${j.progress.description}` : j.progress.description)}
      ${j.error ? html`<cal-error .error=${j.error}></cal-error>` : nothing}
      ${
        isFinal(j.state)
          ? html`<div class="actions">
              <button class="primary" @click=${() => this.dispatchEvent(new Event('done'))}>${_('Back to backups')}</button>
            </div>`
          : nothing
      }`;
  }
}
