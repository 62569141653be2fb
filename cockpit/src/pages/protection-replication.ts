/**
 * Data protection, first half: the remotes (pair with the host key confirmed, test, unpair) and
 * the push replication tasks (last run with its result and bytes, a progress bar while a run of
 * this page is going, run now, create, delete). Job events (job.*) move the bars; a finished run
 * reloads the list, which then carries the run's result as the agent recorded it.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { confirmAction } from '../components/confirm-dialog.js';
import { tableHead } from '../components/list-table.js';
import { emptyState, unavailableBanner } from '../components/page-state.js';
import { jobProgress } from '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { isFinal, type JobSummary, SeenJobs } from '../data/jobs.js';
import {
  deleteTask,
  followOwnedJobs,
  JobOwners,
  listRemotes,
  listTasks,
  REPLICATION_LOCK,
  REPLICATION_METHOD,
  type Remote,
  type RemoteTest,
  type ReplicationTask,
  runTask,
  TASKS_CHANGED,
  testRemote,
  unpairRemote,
} from '../data/protection.js';
import { formatDate } from '../format.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';
import { sectionDown } from './protection-state.js';
import './protection-pair-dialog.js';
import './protection-task-dialog.js';
import type { PairDialog } from './protection-pair-dialog.js';
import type { TaskDialog } from './protection-task-dialog.js';

@customElement('cal-protection-replication')
export class ProtectionReplication extends LitElement {
  static override styles = [base];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private tests = new Map<string, RemoteTest | 'testing'>();
  /** task id → its run started from this page, as the last job event told */
  @state() private runs = new Map<string, JobSummary>();
  @state() private error: unknown;
  /** made once the client is there (it comes through the context when connected) */
  private owners!: JobOwners;
  private seen = new SeenJobs();
  private offs: (() => void)[] = [];
  @query('cal-pair-dialog') private pairDialog!: PairDialog;
  @query('cal-task-dialog') private taskDialog!: TaskDialog;

  private remotes = new Task(this, {
    task: ([c], { signal }) => listRemotes(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private tasks = new Task(this, {
    task: ([c], { signal }) => listTasks(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.owners = new JobOwners(this.client, REPLICATION_METHOD, REPLICATION_LOCK);
    this.offs.push(followOwnedJobs(this.client, this.owners, this.seen, (o, j) => this.track(o, j)));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
  }

  private track(taskId: string, j: JobSummary) {
    this.runs = new Map(this.runs).set(taskId, j);
    if (isFinal(j.state)) this.reload();
  }

  /** Reload the tasks, and tell the page's other sections (the replica drills) that they changed. */
  private reload() {
    void this.tasks.run();
    window.dispatchEvent(new Event(TASKS_CHANGED));
  }

  private async act(fn: () => Promise<unknown>) {
    this.error = undefined;
    try {
      await fn();
    } catch (e) {
      this.error = e;
    }
  }

  private test(r: Remote) {
    this.tests = new Map(this.tests).set(r.name, 'testing');
    return this.act(async () => {
      try {
        this.tests = new Map(this.tests).set(r.name, await testRemote(this.client, r.name));
      } catch (e) {
        this.tests.delete(r.name);
        this.tests = new Map(this.tests);
        throw e;
      }
    });
  }

  private async unpair(r: Remote) {
    const ok = await confirmAction({
      title: format(_('Unpair $0?'), r.name),
      body: format(
        _(
          'This appliance forgets $0 ($1) and deletes its key for it. Data on the remote is not touched; pairing again needs the remote to authorize a new key.',
        ),
        r.name,
        r.host,
      ),
      action: format(_('Unpair $0'), r.name),
      danger: true,
    });
    if (ok)
      await this.act(async () => {
        await unpairRemote(this.client, r.name);
        await this.remotes.run();
      });
  }

  private run(t: ReplicationTask) {
    return this.act(async () => {
      const { job } = await runTask(this.client, t.id);
      this.owners.set(job, t.id);
      this.track(t.id, this.seen.started(job, 'replication.task.run'));
    });
  }

  private async removeTask(t: ReplicationTask) {
    const ok = await confirmAction({
      title: format(_('Delete replication task $0?'), t.id),
      body: format(
        _(
          'The task stops replicating $0 to $1. Its holds on the last common snapshot are released on both sides; no dataset or snapshot is destroyed.',
        ),
        t.source,
        `${t.remote}:${t.target}`,
      ),
      action: format(_('Delete $0'), t.id),
      danger: true,
    });
    if (ok)
      await this.act(async () => {
        await deleteTask(this.client, t.id);
        this.reload();
      });
  }

  override render() {
    const down = sectionDown(this.remotes, this.tasks);
    return html`<section class="card" aria-labelledby="dp-remotes">
        <div class="toolbar">
          <h3 id="dp-remotes">${_('Remotes')}</h3>
          <span class="spacer"></span>
          <button data-action="pair" ?disabled=${!!down} title=${down ?? nothing} @click=${() => this.pairDialog.open()}>
            ${_('Pair a remote…')}
          </button>
        </div>
        ${unavailableBanner(_('Replication'), down, _('Replication needs ZFS and OpenSSH (ssh, ssh-keygen, ssh-keyscan) on this appliance.'))}
        <cal-error .error=${this.error}></cal-error>
        ${down ? nothing : renderTask(this.remotes, (items) => this.renderRemotes(items), { quietUnavailable: true })}
      </section>
      <section class="card" aria-labelledby="dp-tasks">
        <div class="toolbar">
          <h3 id="dp-tasks">${_('Replication tasks')}</h3>
          <span class="spacer"></span>
          <button
            data-action="new-task"
            ?disabled=${!!down || !this.remotes.value?.length}
            title=${down ?? (this.remotes.value?.length ? nothing : _('Pair a remote first'))}
            @click=${() => this.taskDialog.open(this.remotes.value ?? [])}
          >
            ${_('New task…')}
          </button>
        </div>
        ${down ? nothing : renderTask(this.tasks, (items) => this.renderTasks(items), { quietUnavailable: true })}
      </section>
      <cal-pair-dialog @paired=${() => this.remotes.run()}></cal-pair-dialog>
      <cal-task-dialog @created=${() => this.reload()}></cal-task-dialog>`;
  }

  private renderRemotes(items: Remote[]) {
    if (items.length === 0)
      return emptyState(_('No remotes: pair another appliance to replicate datasets to it.'), {
        label: _('Pair a remote…'),
        run: () => this.pairDialog.open(),
      });
    return html`<table data-list="remotes">
      ${tableHead([_('Name'), _('Host'), _('Receives into'), _('Host key'), _('Test')], true)}
      <tbody>
        ${items.map((r) => {
          const t = this.tests.get(r.name);
          return html`<tr data-name=${r.name}>
            <td>${r.name}</td>
            <td>${r.user}@${r.host}:${r.port}</td>
            <td>${r.prefix}</td>
            <td><code>${r.hostKeyFingerprint}</code></td>
            <td data-test-result=${t === undefined ? '' : t === 'testing' ? 'testing' : t.ok ? 'ok' : 'failed'}>
              ${
                t === undefined
                  ? ''
                  : t === 'testing'
                    ? _('Testing…')
                    : html`<span class=${t.ok ? 'badge ok' : 'badge bad'}>${t.ok ? _('connected') : _('failed')}</span>
                        <span class="muted">${t.detail} (${t.ms} ms)</span>`
              }
            </td>
            <td>
              <button data-action="test" ?disabled=${t === 'testing'} @click=${() => this.test(r)}>${_('Test')}</button>
              <button class="link" data-action="unpair" @click=${() => this.unpair(r)}>${_('Unpair')}</button>
            </td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }

  private renderTasks(items: ReplicationTask[]) {
    if (items.length === 0)
      return emptyState(
        this.remotes.value?.length
          ? _('No replication tasks: create one to push a dataset’s snapshots to a remote.')
          : _('No replication tasks: pair a remote first, then create a task.'),
      );
    return html`<table data-list="tasks">
      ${tableHead([_('Id'), _('Source'), _('Target'), _('Last run'), _('Result'), _('Bytes')], true)}
      <tbody>
        ${items.map((t) => this.renderTask(t))}
      </tbody>
    </table>`;
  }

  private renderTask(t: ReplicationTask) {
    const last = t.lastRun;
    const job = this.runs.get(t.id);
    const active = job !== undefined && !isFinal(job.state);
    const result = last ? (last.ok ? 'ok' : 'failed') : 'never';
    return html`<tr data-task=${t.id} data-result=${result}>
      <td>${t.id}</td>
      <td>${t.source}</td>
      <td>${t.remote}:${t.target}${t.bandwidthLimit ? html` <span class="muted">(${formatBytes(t.bandwidthLimit)}/s)</span>` : nothing}</td>
      <td>${last ? formatDate(last.time) : _('never')}${t.common ? html`<br /><span class="muted">@${t.common}</span>` : nothing}</td>
      <td>
        ${
          last
            ? html`<span class=${last.ok ? 'badge ok' : 'badge bad'}>${last.ok ? _('success') : _('failed')}</span>
                ${last.mode ? html`<span class="muted">${last.mode}</span>` : nothing}
                ${last.error ? html`<div class="muted" data-error>${last.error}</div>` : nothing}`
            : nothing
        }
        ${jobProgress(job, 'replication-run', format(_('Replication $0'), t.id))}
      </td>
      <td class="num" data-bytes=${last?.bytes ?? ''}>${last?.bytes !== undefined ? formatBytes(last.bytes) : ''}</td>
      <td>
        <button data-action="run" ?disabled=${active} @click=${() => this.run(t)}>${_('Run now')}</button>
        <button class="link" data-action="delete" ?disabled=${active} @click=${() => this.removeTask(t)}>${_('Delete')}</button>
      </td>
    </tr>`;
  }
}
