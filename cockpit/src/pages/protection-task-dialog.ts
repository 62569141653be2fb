/**
 * "New replication task": a local dataset pushed to a dataset under a paired remote's prefix,
 * with an optional bandwidth limit. The target is offered as `<prefix>/<source's last part>`;
 * the agent refuses a target outside the remote's prefix (and any other bad field) in words.
 */
import { consume } from '@lit/context';
import { html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { clientContext } from '../context.js';
import { createTask, type Remote, type ReplicationTask } from '../data/protection.js';
import { _ } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, dialogBase } from '../styles.js';
import { dialogStyles } from './protection-styles.js';

interface TaskDraft {
  id: string;
  remote: string;
  source: string;
  target: string;
  /** MiB/s as typed; empty: no limit */
  limit: string;
}

const DATASET = /^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/;

export function taskProblems(d: TaskDraft): string[] {
  const out: string[] = [];
  if (!/^[a-z0-9][a-z0-9-]*$/.test(d.id)) out.push('The id is lower-case letters, digits and -.');
  if (!d.remote) out.push('Pair a remote first.');
  if (!DATASET.test(d.source)) out.push('The source is a local dataset (tank/data).');
  if (!DATASET.test(d.target)) out.push('The target is a dataset on the remote, under its prefix.');
  if (d.limit && !(Number(d.limit) > 0)) out.push('The bandwidth limit is a number of MiB/s, or empty.');
  return out;
}

@customElement('cal-task-dialog')
export class TaskDialog extends LitElement {
  static override styles = [base, dialogBase, dialogStyles];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private remotes: Remote[] = [];
  @state() private draft: TaskDraft = { id: '', remote: '', source: '', target: '', limit: '' };
  /** the target was typed by the person: stop offering one */
  private targetTyped = false;
  @state() private error: unknown;
  @state() private busy = false;
  @query('dialog') private dialog!: HTMLDialogElement;

  open(remotes: Remote[]) {
    this.remotes = remotes;
    this.draft = { id: '', remote: remotes[0]?.name ?? '', source: '', target: '', limit: '' };
    this.targetTyped = false;
    this.error = undefined;
    void this.updateComplete.then(() => this.dialog.showModal());
  }

  close() {
    this.dialog?.close();
  }

  private set<K extends keyof TaskDraft>(k: K, v: TaskDraft[K]) {
    const d = { ...this.draft, [k]: v };
    if (k === 'target') this.targetTyped = v !== '';
    if (!this.targetTyped && (k === 'source' || k === 'remote')) {
      const prefix = this.remotes.find((r) => r.name === d.remote)?.prefix;
      const last = d.source.split('/').at(-1);
      d.target = prefix && last && d.source.includes('/') ? `${prefix}/${last}` : '';
    }
    this.draft = d;
    this.error = undefined;
  }

  private async create() {
    const d = this.draft;
    this.error = undefined;
    this.busy = true;
    try {
      const t = await createTask(this.client, {
        id: d.id,
        remote: d.remote,
        source: d.source,
        target: d.target,
        ...(d.limit ? { bandwidthLimit: Math.round(Number(d.limit) * 1024 * 1024) } : {}),
      });
      this.close();
      this.dispatchEvent(
        new CustomEvent<ReplicationTask>('created', { detail: t, bubbles: true, composed: true }),
      );
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const d = this.draft;
    const problems = taskProblems(d);
    const input = (k: 'id' | 'source' | 'target' | 'limit') => (e: Event) =>
      this.set(k, (e.target as HTMLInputElement).value.trim());
    return html`<dialog aria-labelledby="task-title">
      <h2 id="task-title">${_('New replication task')}</h2>
      <form @submit=${(e: Event) => e.preventDefault()}>
        <label for="task-id">${_('Id')}</label>
        <input id="task-id" .value=${d.id} @input=${input('id')} placeholder="daily-data" />
        <label for="task-remote">${_('Remote')}</label>
        <select id="task-remote" @change=${(e: Event) => this.set('remote', (e.target as HTMLSelectElement).value)}>
          ${this.remotes.map(
            (r) =>
              html`<option value=${r.name} ?selected=${r.name === d.remote}>${r.name} (${r.host})</option>`,
          )}
        </select>
        <label for="task-source">${_('Local dataset')}</label>
        <input id="task-source" .value=${d.source} @input=${input('source')} placeholder="tank/data" />
        <label for="task-target">${_('Remote dataset')}</label>
        <input id="task-target" .value=${d.target} @input=${input('target')} placeholder="tank/backup/data" />
        <label for="task-limit">${_('Bandwidth limit (MiB/s)')}</label>
        <input id="task-limit" .value=${d.limit} @input=${input('limit')} placeholder=${_('no limit')} />
      </form>
      ${
        problems.length && d.id && d.source
          ? html`<ul class="problems" data-problems>${problems.map((p) => html`<li>${_(p)}</li>`)}</ul>`
          : nothing
      }
      <cal-error .error=${this.error}></cal-error>
      <div class="actions">
        <button
          class="primary"
          data-action="create-task"
          ?disabled=${this.busy || problems.length > 0}
          @click=${() => this.create()}
        >
          ${_('Create')}
        </button>
        <button class="link" @click=${() => this.close()}>${_('Cancel')}</button>
      </div>
    </dialog>`;
  }
}
