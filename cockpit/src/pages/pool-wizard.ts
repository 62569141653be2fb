/**
 * The create-pool wizard: name and layout → devices (free disks from the inventory, or file
 * vdevs for trials) → review the exact commands (a dry run of pool.create) → create.
 * Fires `created` with the pool, or `cancel`.
 */
import { consume } from '@lit/context';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { clientContext } from '../context.js';
import { type Disk, isFreeDisk, listDisks } from '../data/disks.js';
import {
  createPool,
  type DryRunPlan,
  MIN_DISKS,
  type PoolCreate,
  planPool,
  VDEV_TYPES,
  type VdevType,
} from '../data/pools.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';

const STEPS = [_('Name and layout'), _('Devices'), _('Review'), _('Create')];
const NAME_RE = /^[A-Za-z][A-Za-z0-9_.:-]{0,254}$/;

@customElement('cal-pool-wizard')
export class PoolWizard extends LitElement {
  static override styles = [
    base,
    css`
      ol.steps {
        display: flex;
        gap: 1.5rem;
        list-style: none;
        padding: 0;
        margin: 0 0 1.5rem;
        counter-reset: step;
      }
      ol.steps li {
        counter-increment: step;
        color: var(--cal-fg-muted);
      }
      ol.steps li::before {
        content: counter(step) '. ';
      }
      ol.steps li[aria-current='step'] {
        color: var(--cal-fg);
        font-weight: 500;
      }
      .disks {
        max-height: 20rem;
        overflow: auto;
        border: 1px solid var(--cal-border);
      }
      .disks label {
        display: flex;
        gap: 0.5rem;
        padding: 0.25rem 0.5rem;
        font-weight: 400;
      }
      pre.plan {
        background: var(--cal-bg-subtle);
        padding: 0.75rem;
        white-space: pre-wrap;
        word-break: break-all;
      }
      textarea {
        width: 100%;
        min-height: 5rem;
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        margin-top: 1rem;
      }
      .invalid {
        color: var(--cal-danger);
        font-size: 0.875rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private step = 0;
  @state() private name = '';
  @state() private layout: VdevType = 'mirror';
  @state() private picked = new Set<string>();
  @state() private files = '';
  @state() private altroot = '';
  @state() private force = false;
  @state() private disks: Disk[] | undefined;
  @state() private disksError: unknown;
  @state() private plan: DryRunPlan | undefined;
  @state() private error: unknown;
  @state() private busy = false;

  override connectedCallback(): void {
    super.connectedCallback();
    listDisks(this.client)
      .then((d) => {
        this.disks = d;
      })
      .catch((e) => {
        // no disk inventory (or no disks): file vdevs still work
        this.disks = [];
        this.disksError = e;
      });
  }

  private devices(): string[] {
    const files = this.files
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return [...this.picked, ...files];
  }

  private request(): PoolCreate {
    const r: PoolCreate = {
      name: this.name,
      topology: { data: [{ type: this.layout, disks: this.devices() }] },
    };
    if (this.altroot.trim()) r.altroot = this.altroot.trim();
    if (this.force) r.force = true;
    return r;
  }

  private problem(): string | undefined {
    if (this.step === 0 && !NAME_RE.test(this.name))
      return _('A pool name starts with a letter and has letters, digits, _ . : - only.');
    if (this.step === 1) {
      const devs = this.devices();
      if (devs.length < MIN_DISKS[this.layout])
        return format(_('A $0 needs at least $1 devices.'), this.layout, MIN_DISKS[this.layout]);
      const bad = devs.find((d) => !d.startsWith('/'));
      if (bad) return format(_('$0 is not an absolute path.'), bad);
    }
    return undefined;
  }

  private async next() {
    this.error = undefined;
    if (this.step === 1) {
      this.busy = true;
      try {
        this.plan = await planPool(this.client, this.request());
        this.step = 2;
      } catch (e) {
        this.error = e;
      } finally {
        this.busy = false;
      }
      return;
    }
    this.step++;
  }

  private async create() {
    this.error = undefined;
    this.busy = true;
    this.step = 3;
    try {
      const pool = await createPool(this.client, this.request());
      this.dispatchEvent(new CustomEvent('created', { detail: pool, bubbles: true, composed: true }));
    } catch (e) {
      this.error = e;
      this.step = 2;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const problem = this.problem();
    return html`<section class="card" aria-labelledby="wz">
      <h2 id="wz">${_('Create pool')}</h2>
      <ol class="steps">
        ${STEPS.map((s, i) => html`<li aria-current=${i === this.step ? 'step' : 'false'}>${s}</li>`)}
      </ol>
      <cal-error .error=${this.error}></cal-error>
      ${[this.renderName, this.renderDevices, this.renderReview, this.renderCreating][this.step]!.call(this)}
      ${this.step < 2 && problem ? html`<p class="invalid" role="status">${problem}</p>` : nothing}
      <div class="actions">
        ${
          this.step < 2
            ? html`<button class="primary" ?disabled=${!!problem || this.busy} @click=${this.next}>
              ${this.step === 1 ? _('Review commands') : _('Next')}
            </button>`
            : nothing
        }
        ${
          this.step === 2
            ? html`<button class="primary" ?disabled=${this.busy} @click=${this.create} data-action="create">
              ${format(_('Create $0'), this.name)}
            </button>`
            : nothing
        }
        ${
          this.step > 0 && this.step < 3
            ? html`<button class="link" @click=${() => {
                this.step--;
                this.error = undefined;
              }}>${_('Back')}</button>`
            : nothing
        }
        <button class="link" @click=${() => this.dispatchEvent(new CustomEvent('cancel', { bubbles: true, composed: true }))}>
          ${_('Cancel')}
        </button>
      </div>
    </section>`;
  }

  private renderName() {
    return html`<div class="field">
        <label for="name">${_('Pool name')}</label>
        <input
          id="name"
          autocomplete="off"
          .value=${this.name}
          @input=${(e: InputEvent) => {
            this.name = (e.target as HTMLInputElement).value;
          }}
        />
      </div>
      <div class="field">
        <label for="layout">${_('Layout')}</label>
        <select id="layout" @change=${(e: Event) => (this.layout = (e.target as HTMLSelectElement).value as VdevType)}>
          ${VDEV_TYPES.map(
            (t) => html`<option value=${t} ?selected=${t === this.layout}>
              ${t} (${format(_('at least $0 devices'), MIN_DISKS[t])})
            </option>`,
          )}
        </select>
      </div>`;
  }

  private renderDevices() {
    const free = (this.disks ?? []).filter(isFreeDisk);
    return html`<fieldset class="field">
        <legend><label>${_('Disks from the inventory')}</label></legend>
        ${this.disks === undefined ? html`<p class="muted">${_('Loading disks…')}</p>` : nothing}
        ${this.disksError ? html`<cal-error tone="warn" .error=${this.disksError}></cal-error>` : nothing}
        ${this.disks && free.length === 0 ? html`<p class="muted">${_('No unused disks.')}</p>` : nothing}
        ${
          free.length
            ? html`<div class="disks">
              ${free.map((d) => {
                const path = d.byId?.[0] ?? d.path;
                return html`<label>
                  <input
                    type="checkbox"
                    .checked=${this.picked.has(path)}
                    @change=${(e: Event) => {
                      const next = new Set(this.picked);
                      if ((e.target as HTMLInputElement).checked) next.add(path);
                      else next.delete(path);
                      this.picked = next;
                    }}
                  />
                  <span>${d.name}</span> <span class="muted">${formatBytes(d.size)} ${d.model ?? ''} ${d.serial ?? ''}</span>
                </label>`;
              })}
            </div>`
            : nothing
        }
      </fieldset>
      <div class="field">
        <label for="files"
          >${_('File vdevs')} <span class="help">${_('absolute paths of files, one per line (trials and tests)')}</span></label
        >
        <textarea
          id="files"
          .value=${this.files}
          @input=${(e: InputEvent) => {
            this.files = (e.target as HTMLTextAreaElement).value;
          }}
        ></textarea>
      </div>
      <div class="field">
        <label for="altroot">${_('Alternate root')} <span class="help">${_('optional: mount under this directory (zpool create -R)')}</span></label>
        <input
          id="altroot"
          .value=${this.altroot}
          @input=${(e: InputEvent) => {
            this.altroot = (e.target as HTMLInputElement).value;
          }}
        />
      </div>
      <label
        ><input type="checkbox" .checked=${this.force} @change=${(e: Event) => (this.force = (e.target as HTMLInputElement).checked)} />
        ${_('Use disks that have partitions (force)')}</label
      >`;
  }

  private renderReview() {
    const plan = this.plan;
    return html`<p>${_('These commands will run:')}</p>
      <pre class="plan" data-plan>${plan?.commands.map((c) => c.join(' ')).join('\n')}</pre>
      ${plan?.notes?.length ? html`<ul>${plan.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}`;
  }

  private renderCreating() {
    return html`<p role="status">${format(_('Creating $0…'), this.name)}</p>`;
  }
}
