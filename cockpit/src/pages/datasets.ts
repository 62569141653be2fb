/**
 * Datasets & snapshots: the dataset tree, the selected dataset's properties, its snapshots
 * (paged, newest first), create dataset / snapshot, rollback behind a confirmation, and the
 * snapshot policies. The selected dataset is in the URL (#/datasets/<name>).
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { confirmAction } from '../components/confirm-dialog.js';
import '../components/error-alert.js';
import { cockpit } from '../cockpit.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  createDataset,
  createSnapshot,
  type Dataset,
  deletePolicy,
  flattenTree,
  getDataset,
  listDatasets,
  listPolicies,
  listSnapshots,
  type Policy,
  rollbackSnapshot,
  runPolicy,
  setPolicy,
} from '../data/datasets.js';
import { formatDate } from '../format.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';

const PAGE = 50;

@customElement('cal-datasets')
export class DatasetsPage extends LitElement {
  static override styles = [
    base,
    css`
      .layout {
        display: grid;
        grid-template-columns: minmax(14rem, 22rem) 1fr;
        gap: 1rem;
        align-items: start;
      }
      ul.tree {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      ul.tree button {
        border: none;
        width: 100%;
        text-align: left;
        padding: 0.25rem 0.5rem;
        color: var(--cal-fg);
      }
      ul.tree button[aria-current='true'] {
        background: var(--cal-info-bg);
        box-shadow: inset 3px 0 0 var(--cal-primary);
      }
      form.inline {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: end;
        margin: 0.5rem 0 1rem;
      }
      form.inline .field {
        margin: 0;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private selected = decodeURIComponent(cockpit.location.path[1] ?? '');
  @state() private offset = 0;
  @state() private error: unknown;
  private onLocation = () => {
    this.selected = decodeURIComponent(cockpit.location.path[1] ?? '');
    this.offset = 0;
  };

  private tree = new Task(this, {
    task: ([c], { signal }) => listDatasets(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private detail = new Task(this, {
    task: ([c, name], { signal }) =>
      name ? getDataset(c as AgentClient, name as string, { signal }) : undefined,
    args: () => [this.client, this.selected] as const,
  });
  private snapshots = new Task(this, {
    task: ([c, name, offset], { signal }) =>
      name
        ? listSnapshots(
            c as AgentClient,
            { dataset: name as string, offset: offset as number, limit: PAGE },
            { signal },
          )
        : undefined,
    args: () => [this.client, this.selected, this.offset] as const,
  });
  private policies = new Task(this, {
    task: ([c], { signal }) => listPolicies(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    cockpit.addEventListener('locationchanged', this.onLocation);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cockpit.removeEventListener('locationchanged', this.onLocation);
  }

  private select(name: string) {
    cockpit.location.go(['datasets', name]);
  }

  private async act(fn: () => Promise<unknown>, after: () => void) {
    this.error = undefined;
    try {
      await fn();
      after();
    } catch (e) {
      this.error = e;
    }
  }

  override render() {
    return html`<h2>${_('Datasets & snapshots')}</h2>
      <cal-error .error=${this.error}></cal-error>
      <div class="layout">
        <section class="card" aria-labelledby="h-tree">
          <h3 id="h-tree">${_('Datasets')}</h3>
          ${renderTask(this.tree, (nodes) =>
            nodes.length === 0
              ? html`<p class="muted">${_('No datasets: create a pool first.')}</p>`
              : html`<ul class="tree">
                  ${flattenTree(nodes).map(
                    ({ node, depth }) => html`<li>
                      <button
                        aria-current=${node.name === this.selected ? 'true' : 'false'}
                        @click=${() => this.select(node.name)}
                      >
                        ${'\u00a0\u00a0'.repeat(depth)}${node.name.split('/').pop()}
                        <span class="muted">${formatBytes(node.used)}</span>
                      </button>
                    </li>`,
                  )}
                </ul>`,
          )}
          ${this.renderCreateDataset()}
        </section>
        <div>${this.selected ? this.renderSelected() : html`<p class="card muted">${_('Select a dataset.')}</p>`}</div>
      </div>
      ${this.renderPolicies()}`;
  }

  private renderCreateDataset() {
    return html`<form
      class="inline"
      @submit=${(e: SubmitEvent) => {
        e.preventDefault();
        const f = e.target as HTMLFormElement;
        const name = (f.elements.namedItem('dsname') as HTMLInputElement).value.trim();
        const compression = (f.elements.namedItem('compression') as HTMLSelectElement).value;
        void this.act(
          () => createDataset(this.client, name, compression ? { compression } : {}),
          () => {
            f.reset();
            void this.tree.run();
            this.select(name);
          },
        );
      }}
    >
      <div class="field">
        <label for="dsname">${_('New dataset')}</label>
        <input id="dsname" name="dsname" required placeholder=${this.selected ? `${this.selected}/…` : 'pool/name'} />
      </div>
      <div class="field">
        <label for="compression">${_('Compression')}</label>
        <select id="compression" name="compression">
          <option value="">${_('inherit')}</option>
          <option>lz4</option>
          <option>gzip</option>
          <option>off</option>
        </select>
      </div>
      <button class="primary" type="submit">${_('Create')}</button>
    </form>`;
  }

  private renderSelected() {
    return html`<section class="card" aria-labelledby="h-ds">
        <h3 id="h-ds">${this.selected}</h3>
        ${renderTask(this.detail, (d) => (d ? this.renderProps(d) : html``))}
      </section>
      <section class="card" aria-labelledby="h-snaps">
        <h3 id="h-snaps">${_('Snapshots')}</h3>
        <form
          class="inline"
          @submit=${(e: SubmitEvent) => {
            e.preventDefault();
            const f = e.target as HTMLFormElement;
            const name = (f.elements.namedItem('snapname') as HTMLInputElement).value.trim();
            void this.act(
              () => createSnapshot(this.client, this.selected, name),
              () => {
                f.reset();
                void this.snapshots.run();
              },
            );
          }}
        >
          <div class="field">
            <label for="snapname">${_('Snapshot name')}</label>
            <input id="snapname" name="snapname" required pattern="[A-Za-z0-9_.:-]+" />
          </div>
          <button class="primary" type="submit">${_('Take snapshot')}</button>
        </form>
        ${renderTask(this.snapshots, (page) => {
          if (!page) return html``;
          const last = Math.min(page.total, this.offset + page.items.length);
          return html`<table>
              <thead>
                <tr>
                  <th>${_('Snapshot')}</th>
                  <th>${_('Created')}</th>
                  <th>${_('Used')}</th>
                  <th>${_('Referenced')}</th>
                  <th><span class="sr-only">${_('Actions')}</span></th>
                </tr>
              </thead>
              <tbody>
                ${page.items.map(
                  (s) => html`<tr>
                    <td class="mono">${s.snapshot}</td>
                    <td>${formatDate(s.created)}</td>
                    <td>${formatBytes(s.used)}</td>
                    <td>${formatBytes(s.referenced)}</td>
                    <td><button class="link" @click=${() => this.rollback(s.name)}>${_('Roll back')}</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>
            <div class="toolbar">
              <span class="muted">${page.total ? format(_('$0–$1 of $2'), this.offset + 1, last, page.total) : _('No snapshots.')}</span>
              <span class="spacer"></span>
              <button class="link" ?disabled=${this.offset === 0} @click=${() => (this.offset = Math.max(0, this.offset - PAGE))}>
                ${_('Newer')}
              </button>
              <button class="link" ?disabled=${last >= page.total} @click=${() => (this.offset += PAGE)}>${_('Older')}</button>
            </div>`;
        })}
      </section>`;
  }

  private renderProps(d: Dataset) {
    const main: [string, string][] = [
      [_('Type'), d.type],
      [_('Used'), formatBytes(d.used)],
      [_('Available'), formatBytes(d.available)],
      [_('Referenced'), formatBytes(d.referenced)],
      [_('Mount point'), d.mountpoint ?? '—'],
      [_('Compression'), d.compression ?? '—'],
      [_('Quota'), d.quota ? formatBytes(d.quota) : _('none')],
      [_('Created'), formatDate(d.creation)],
    ];
    const local = Object.entries(d.properties ?? {}).filter(([, v]) => v.source === 'local');
    return html`<dl class="props">
        ${main.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}
      </dl>
      ${
        local.length
          ? html`<h3>${_('Properties set here')}</h3>
            <dl class="props">${local.map(([k, v]) => html`<dt>${k}</dt><dd>${v.value}</dd>`)}</dl>`
          : nothing
      }`;
  }

  private async rollback(snapshot: string) {
    const ok = await confirmAction({
      title: format(_('Roll back to $0?'), snapshot),
      body: format(
        _(
          '$0 returns to its state at this snapshot. Changes made since, and any newer snapshots, are destroyed.',
        ),
        this.selected,
      ),
      typeToConfirm: snapshot.split('@')[1],
      action: _('Roll back'),
      danger: true,
    });
    if (!ok) return;
    await this.act(
      () => rollbackSnapshot(this.client, snapshot, true),
      () => {
        void this.snapshots.run();
        void this.detail.run();
      },
    );
  }

  private renderPolicies() {
    return html`<section class="card" aria-labelledby="h-pol">
      <h3 id="h-pol">${_('Snapshot policies')}</h3>
      ${renderTask(this.policies, (list: Policy[]) =>
        list.length === 0
          ? html`<p class="muted">${_('No policies.')}</p>`
          : html`<table>
              <thead>
                <tr>
                  <th>${_('Policy')}</th>
                  <th>${_('Dataset')}</th>
                  <th>${_('Schedule (UTC)')}</th>
                  <th>${_('Keep')}</th>
                  <th>${_('Next run')}</th>
                  <th><span class="sr-only">${_('Actions')}</span></th>
                </tr>
              </thead>
              <tbody>
                ${list.map(
                  (p) => html`<tr>
                    <td>${p.id}${p.enabled ? '' : html` <span class="badge">${_('disabled')}</span>`}</td>
                    <td>${p.dataset}${p.recursive ? ' (+)' : ''}</td>
                    <td class="mono">${p.schedule}</td>
                    <td>${p.retention.count ?? '—'}</td>
                    <td>${formatDate(p.nextRun)}</td>
                    <td>
                      <button class="link" @click=${() =>
                        this.act(
                          () => runPolicy(this.client, p.id),
                          () => void this.policies.run(),
                        )}>
                        ${_('Run now')}
                      </button>
                      <button class="link" @click=${() => this.deletePolicy(p)}>${_('Delete')}</button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>`,
      )}
      ${this.selected ? this.renderPolicyForm() : nothing}
    </section>`;
  }

  private async deletePolicy(p: Policy) {
    const ok = await confirmAction({
      title: format(_('Delete policy $0?'), p.id),
      body: _('Snapshots it made are kept; no new ones are taken.'),
      action: _('Delete'),
      danger: true,
    });
    if (ok)
      await this.act(
        () => deletePolicy(this.client, p.id),
        () => void this.policies.run(),
      );
  }

  private renderPolicyForm() {
    return html`<form
      class="inline"
      @submit=${(e: SubmitEvent) => {
        e.preventDefault();
        const f = e.target as HTMLFormElement;
        const v = (n: string) => (f.elements.namedItem(n) as HTMLInputElement).value.trim();
        void this.act(
          () =>
            setPolicy(this.client, {
              id: v('pid'),
              dataset: this.selected,
              schedule: v('schedule'),
              retention: { count: Number(v('keep')) },
            }),
          () => {
            f.reset();
            void this.policies.run();
          },
        );
      }}
    >
      <div class="field">
        <label for="pid">${format(_('New policy for $0'), this.selected)}</label>
        <input id="pid" name="pid" required pattern="[a-z0-9][a-z0-9-]*" placeholder="hourly" />
      </div>
      <div class="field">
        <label for="schedule">${_('Schedule (cron, UTC)')}</label>
        <input id="schedule" name="schedule" required value="0 * * * *" />
      </div>
      <div class="field">
        <label for="keep">${_('Keep')}</label>
        <input id="keep" name="keep" type="number" min="1" value="24" required />
      </div>
      <button class="primary" type="submit">${_('Add policy')}</button>
    </form>`;
  }
}
