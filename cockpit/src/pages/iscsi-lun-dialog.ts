/**
 * "Add LUN on a zvol": one dialog that creates the zvol (pool/name, size, thin, volblocksize)
 * and exports it as a LUN (block size) in one call. "Show plan" asks the agent for the dry
 * run — the `zfs create` argv, the backend's commands and the configuration diff — and Create
 * is enabled only while the plan on screen is the plan of the fields as they are: any edit
 * drops it. The agent answers with its own refusals (`invalid`, `conflict`) in plain words.
 */
import { consume } from '@lit/context';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { clientContext } from '../context.js';
import {
  createZvolLun,
  newZvolLunDraft,
  type Plan,
  parseSize,
  planCommands,
  roundToBlock,
  VOLBLOCKSIZES,
  type Volblocksize,
  type ZvolLunDraft,
  zvolLunProblems,
} from '../data/iscsi.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, dialogBase } from '../styles.js';

@customElement('cal-iscsi-lun-dialog')
export class IscsiLunDialog extends LitElement {
  static override styles = [
    base,
    dialogBase,
    css`
      .checks {
        display: flex;
        gap: 1.5rem;
      }
      .checks label {
        font-weight: 400;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private draft: ZvolLunDraft = newZvolLunDraft('');
  @state() private plan: Plan | undefined;
  @state() private error: unknown;
  @state() private busy = false;
  /** pools to suggest for the zvol's name */
  @state() private pools: string[] = [];
  @query('dialog') private dialog!: HTMLDialogElement;

  /** Open for a target; `pools` are offered as the zvol name's first part. */
  open(target: string, pools: string[] = []) {
    this.pools = pools;
    this.draft = newZvolLunDraft(target, pools[0] ?? 'tank');
    this.plan = undefined;
    this.error = undefined;
    void this.updateComplete.then(() => this.dialog.showModal());
  }

  close() {
    this.dialog?.close();
    this.plan = undefined;
  }

  private set<K extends keyof ZvolLunDraft>(k: K, v: ZvolLunDraft[K]) {
    this.draft = { ...this.draft, [k]: v };
    this.plan = undefined;
    this.error = undefined;
  }

  private async showPlan() {
    this.error = undefined;
    this.busy = true;
    try {
      this.plan = await createZvolLun.plan(this.client, this.draft);
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private async create() {
    this.error = undefined;
    this.busy = true;
    try {
      const r = await createZvolLun.run(this.client, this.draft);
      this.close();
      this.dispatchEvent(new CustomEvent('created', { detail: r, bubbles: true, composed: true }));
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private renderPlan(p: Plan) {
    return html`<section aria-label=${_('Plan')} data-plan>
      <h3>${_('Plan')}</h3>
      <p class="muted">${_('Nothing has changed yet. Create runs these commands, in this order:')}</p>
      <pre aria-label=${_('Commands')}>${planCommands(p).join('\n')}</pre>
      ${(p.files ?? []).map((f) => html`<details open><summary>${f.path}</summary><pre>${f.diff}</pre></details>`)}
      ${p.notes?.length ? html`<ul class="muted">${p.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}
    </section>`;
  }

  override render() {
    const d = this.draft;
    const problems = zvolLunProblems(d);
    const size = parseSize(d.size);
    const rounded = size !== undefined ? roundToBlock(size, d.volblocksize) : undefined;
    const input = (k: 'dataset' | 'size') => (e: Event) =>
      this.set(k, (e.target as HTMLInputElement).value.trim());
    return html`<dialog aria-labelledby="lun-title" @close=${() => (this.plan = undefined)}>
      <h2 id="lun-title">${format(_('New LUN on $0'), d.target)}</h2>
      <form @submit=${(e: Event) => e.preventDefault()}>
        <label for="lun-create">${_('Zvol')}</label>
        <select
          id="lun-create"
          @change=${(e: Event) => this.set('create', (e.target as HTMLSelectElement).value === 'new')}
        >
          <option value="new" ?selected=${d.create}>${_('create a new zvol')}</option>
          <option value="existing" ?selected=${!d.create}>${_('use an existing zvol')}</option>
        </select>
        <label for="lun-dataset">${_('Pool / name')}</label>
        <input id="lun-dataset" list="lun-pools" .value=${d.dataset} @input=${input('dataset')} placeholder="tank/vm-disk0" />
        <datalist id="lun-pools">${this.pools.map((p) => html`<option value=${`${p}/`}></option>`)}</datalist>
        ${
          d.create
            ? html`<label for="lun-size">${_('Size')}</label>
              <span>
                <input id="lun-size" .value=${d.size} @input=${input('size')} placeholder="100G" />
                <span class="muted" data-size>${rounded !== undefined ? formatBytes(rounded) : ''}</span>
              </span>
              <label for="lun-volblocksize">${_('Volume block size')}</label>
              <select
                id="lun-volblocksize"
                @change=${(e: Event) => this.set('volblocksize', (e.target as HTMLSelectElement).value as Volblocksize)}
              >
                ${VOLBLOCKSIZES.map((v) => html`<option ?selected=${v === d.volblocksize}>${v}</option>`)}
              </select>
              <span></span>
              <span class="checks">
                <label
                  ><input
                    id="lun-thin"
                    type="checkbox"
                    .checked=${d.thin}
                    @change=${(e: Event) => this.set('thin', (e.target as HTMLInputElement).checked)}
                  />
                  ${_('Thin (no reservation)')}</label
                >
              </span>`
            : nothing
        }
        <label for="lun-blocksize">${_('Logical block size')}</label>
        <select
          id="lun-blocksize"
          @change=${(e: Event) => this.set('blockSize', Number((e.target as HTMLSelectElement).value) as 512 | 4096)}
        >
          <option value="512" ?selected=${d.blockSize === 512}>512</option>
          <option value="4096" ?selected=${d.blockSize === 4096}>4096</option>
        </select>
        <label for="lun-number">${_('LUN number')}</label>
        <input
          id="lun-number"
          type="number"
          min="0"
          max="255"
          placeholder=${_('first free')}
          .value=${d.lun === undefined ? '' : String(d.lun)}
          @input=${(e: Event) => {
            const v = (e.target as HTMLInputElement).value;
            this.set('lun', v === '' ? undefined : Number(v));
          }}
        />
      </form>
      ${
        problems.length && d.dataset.includes('/') && !d.dataset.endsWith('/')
          ? html`<ul class="problems" data-problems>${problems.map((p) => html`<li>${_(p)}</li>`)}</ul>`
          : nothing
      }
      <cal-error .error=${this.error}></cal-error>
      ${this.plan ? this.renderPlan(this.plan) : nothing}
      <div class="actions">
        <button ?disabled=${this.busy || problems.length > 0} @click=${() => this.showPlan()}>${_('Show plan')}</button>
        <button class="primary" ?disabled=${this.busy || !this.plan} @click=${() => this.create()}>${_('Create')}</button>
        <button class="link" @click=${() => this.close()}>${_('Cancel')}</button>
      </div>
    </dialog>`;
  }
}
