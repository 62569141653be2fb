/**
 * Tape & VTL: each library as a grid of drives, storage slots and mailslots with barcodes; a
 * move is two clicks (a full element, then an empty one) and the agent refuses an impossible
 * one with `conflict` before the robot moves; an inventory runs as a job with its progress; a
 * drive's status and TapeAlert flags on demand; a wizard that plans (dry run: files, mktape and
 * systemctl argv) and then creates a virtual library.
 */
import { consume } from '@lit/context';
import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { emptyState, unavailableBanner, unavailableReason } from '../components/page-state.js';
import '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { isFinal, JOB_TOPICS, type JobSummary } from '../data/jobs.js';
import {
  type ChangerInfo,
  type ChangerStatus,
  changerStatus,
  createVtl,
  type DriveStatus,
  driveStatus,
  listChangers,
  listVtl,
  move,
  type Pick,
  planVtl,
  startInventory,
  TAPE_TOPICS,
  type VtlLibrary,
  type VtlPlan,
  vtlStatus,
} from '../data/tape.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';

const NEW_LIBRARY: VtlLibrary = {
  id: 10,
  name: 'vtl1',
  personality: 'STK-L700',
  drives: [8, 8],
  slots: 24,
  mailslots: 4,
  barcodePrefix: 'E0',
  tapes: 20,
  cleaningTapes: 1,
  capacityMB: 5000,
  compression: 1,
};

@customElement('cal-tape-library')
export class TapeLibrary extends LitElement {
  static override styles = [
    base,
    css`
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(6.5rem, 1fr));
        gap: 0.35rem;
        margin: 0.5rem 0 1rem;
      }
      button.el {
        text-align: left;
        font-family: var(--cal-mono, monospace);
        font-size: 0.8rem;
        padding: 0.3rem 0.4rem;
        border: 1px solid var(--cal-border, #ccc);
        border-radius: 4px;
        background: var(--cal-bg, #fff);
        min-height: 2.6rem;
      }
      button.el.full {
        background: var(--cal-accent-bg, #e7f1fb);
      }
      button.el.cleaning {
        background: var(--cal-warn-bg, #fdf3d8);
      }
      button.el.picked {
        outline: 2px solid var(--cal-accent, #0066cc);
      }
      .label {
        display: block;
        font-size: 0.7rem;
        color: var(--cal-muted, #666);
      }
      ul.alerts {
        margin: 0.25rem 0;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @property({ attribute: false }) changer!: ChangerInfo;
  @state() private status: ChangerStatus | undefined;
  @state() private picked: Pick | undefined;
  @state() private error: unknown;
  @state() private busy = false;
  @state() private inventory: JobSummary | undefined;
  @state() private drive: DriveStatus | undefined;
  private offs: (() => void)[] = [];

  private load = new Task(this, {
    task: async ([c, id], { signal }) => {
      this.status = await changerStatus(c as AgentClient, id as string, { signal });
      return this.status;
    },
    args: () => [this.client, this.changer.id] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.offs.push(
      this.client.on(JOB_TOPICS, (ev) => {
        const j = ev.data as JobSummary;
        if (this.inventory?.id !== j.id) return;
        this.inventory = j;
        if (isFinal(j.state)) void this.load.run();
      }),
      // a move from another tab or from calypsoctl
      this.client.on(TAPE_TOPICS, (ev) => {
        const s = ev.data as ChangerStatus;
        if (s.changer === this.changer.id) this.status = s;
      }),
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
  }

  private async pickElement(p: Pick, full: boolean) {
    this.error = undefined;
    if (!this.picked) {
      if (full) this.picked = p;
      return;
    }
    const from = this.picked;
    this.picked = undefined;
    if (from.kind === p.kind && from.index === p.index) return;
    this.busy = true;
    try {
      this.status = await move(this.client, this.changer.id, from, p);
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private async runInventory() {
    this.error = undefined;
    try {
      this.inventory = await startInventory(this.client, this.changer.id);
    } catch (e) {
      this.error = e;
    }
  }

  private async showDrive(id: string) {
    this.error = undefined;
    try {
      this.drive = await driveStatus(this.client, id);
    } catch (e) {
      this.error = e;
    }
  }

  private isPicked(p: Pick) {
    return this.picked?.kind === p.kind && this.picked.index === p.index;
  }

  private renderGrid(s: ChangerStatus) {
    const slots = s.slots.filter((x) => !x.importExport);
    const mail = s.slots.filter((x) => x.importExport);
    const el = (p: Pick, full: boolean, title: string, tag?: string, cleaning?: boolean) =>
      html`<button
        class="el ${full ? 'full' : ''} ${cleaning ? 'cleaning' : ''} ${this.isPicked(p) ? 'picked' : ''}"
        ?disabled=${this.busy}
        aria-pressed=${this.isPicked(p)}
        @click=${() => this.pickElement(p, full)}
      >
        <span class="label">${title}</span>${tag ?? (full ? _('(no barcode)') : _('empty'))}
      </button>`;
    return html`<h4>${_('Drives')}</h4>
      <div class="grid">
        ${s.drives.map((d) => {
          const ref = this.changer.drives.find((x) => x.index === d.index);
          return html`<div>
            ${el({ kind: 'drive', index: d.index }, d.full, format(_('Drive $0'), d.index), d.volumeTag, d.cleaning)}
            ${ref ? html`<button class="link" @click=${() => this.showDrive(ref.id)}>${_('status')}</button>` : nothing}
          </div>`;
        })}
      </div>
      <h4>${_('Slots')}</h4>
      <div class="grid">
        ${slots.map((x) =>
          el(
            { kind: 'slot', index: x.index, importExport: false },
            x.full,
            format(_('Slot $0'), x.index),
            x.volumeTag,
            x.cleaning,
          ),
        )}
      </div>
      ${
        mail.length
          ? html`<h4>${_('Mailslots')}</h4>
            <div class="grid">
              ${mail.map((x) =>
                el(
                  { kind: 'slot', index: x.index, importExport: true },
                  x.full,
                  format(_('Mailslot $0'), x.index),
                  x.volumeTag,
                ),
              )}
            </div>`
          : nothing
      }`;
  }

  private renderDrive() {
    const d = this.drive;
    if (!d) return nothing;
    return html`<section aria-label=${_('Drive status')}>
      <h4>${format(_('Drive $0'), d.index)}: ${d.loaded ? (d.volumeTag ?? _('loaded')) : _('empty')}</h4>
      <p>
        ${d.online ? _('online') : _('offline')}${d.writeProtected ? `, ${_('write protected')}` : ''}${
          d.file !== undefined ? `, ${format(_('file $0 block $1'), d.file, d.block ?? 0)}` : ''
        }${d.density ? `, ${d.density}` : ''}
      </p>
      ${
        d.alerts.length
          ? html`<ul class="alerts">
            ${d.alerts.map((a) => html`<li class=${a.severity}>TapeAlert ${a.flag}: ${a.name}</li>`)}
          </ul>`
          : html`<p class="muted">${_('No TapeAlert flags')}</p>`
      }
    </section>`;
  }

  override render() {
    const c = this.changer;
    return html`<section aria-label=${c.id}>
      <div class="toolbar">
        <h3>${c.vendor ?? ''} ${c.model ?? ''} <small>${c.id}</small></h3>
        <span class="spacer"></span>
        <button @click=${() => this.runInventory()} ?disabled=${!!this.inventory && !isFinal(this.inventory.state)}>
          ${_('Inventory')}
        </button>
      </div>
      ${
        this.inventory && !isFinal(this.inventory.state)
          ? html`<cal-progress
            .value=${this.inventory.progress.percent}
            label=${_('Inventory')}
            description=${this.inventory.progress.description}
          ></cal-progress>`
          : nothing
      }
      ${this.picked ? html`<p class="muted">${_('Now click where the cartridge goes.')}</p>` : nothing}
      ${this.error ? html`<cal-error .error=${this.error}></cal-error>` : nothing}
      ${renderTask(this.load, () => (this.status ? this.renderGrid(this.status) : html``))} ${this.renderDrive()}
    </section>`;
  }
}

@customElement('cal-tape')
export class TapePage extends LitElement {
  static override styles = [
    base,
    css`
      form.wizard {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.4rem 0.75rem;
        max-width: 40rem;
      }
      pre {
        white-space: pre-wrap;
        font-size: 0.8rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private draft: VtlLibrary = { ...NEW_LIBRARY };
  @state() private plan: VtlPlan | undefined;
  @state() private wizardError: unknown;
  @state() private wizardOpen = false;

  private changers = new Task(this, {
    task: ([c], { signal }) => listChangers(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private vtl = new Task(this, {
    task: async ([c], { signal }) => ({
      status: await vtlStatus(c as AgentClient, { signal }),
      libraries: await listVtl(c as AgentClient, { signal }),
    }),
    args: () => [this.client] as const,
  });

  private set<K extends keyof VtlLibrary>(k: K, v: VtlLibrary[K]) {
    this.draft = { ...this.draft, [k]: v };
    this.plan = undefined;
  }

  private async makePlan() {
    this.wizardError = undefined;
    try {
      this.plan = await planVtl(this.client, this.draft);
    } catch (e) {
      this.wizardError = e;
    }
  }

  private async create() {
    this.wizardError = undefined;
    try {
      await createVtl(this.client, this.draft);
      this.wizardOpen = false;
      this.plan = undefined;
      void this.vtl.run();
      void this.changers.run();
    } catch (e) {
      this.wizardError = e;
    }
  }

  private renderWizard() {
    const d = this.draft;
    const num = (k: keyof VtlLibrary, label: string, min: number, max: number) =>
      html`<label for=${k}>${label}</label
        ><input
          id=${k}
          type="number"
          min=${min}
          max=${max}
          .value=${String(d[k])}
          @change=${(e: Event) => this.set(k, Number((e.target as HTMLInputElement).value) as never)}
        />`;
    const personalities = this.vtl.value?.status.personalities ?? [d.personality];
    return html`<form class="wizard" @submit=${(e: Event) => e.preventDefault()} aria-label=${_('New virtual library')}>
        <label for="name">${_('Name')}</label
        ><input id="name" .value=${d.name} @change=${(e: Event) => this.set('name', (e.target as HTMLInputElement).value)} />
        ${num('id', _('Library id (10, 20, … 90)'), 10, 90)}
        <label for="personality">${_('Model')}</label>
        <select
          id="personality"
          @change=${(e: Event) => {
            const p = personalities.find((x) => x === (e.target as HTMLSelectElement).value);
            if (p) this.set('personality', p);
          }}
        >
          ${personalities.map((p) => html`<option ?selected=${p === d.personality}>${p}</option>`)}
        </select>
        <label for="drives">${_('Drives (LTO generation each)')}</label
        ><input
          id="drives"
          .value=${d.drives.join(',')}
          @change=${(e: Event) =>
            this.set(
              'drives',
              (e.target as HTMLInputElement).value
                .split(',')
                .map((x) => Number(x.trim()))
                .filter((x) => x > 0),
            )}
        />
        ${num('slots', _('Slots'), 1, 2000)} ${num('mailslots', _('Mailslots'), 0, 255)}
        <label for="barcodePrefix">${_('Barcode prefix')}</label
        ><input
          id="barcodePrefix"
          .value=${d.barcodePrefix}
          @change=${(e: Event) => this.set('barcodePrefix', (e.target as HTMLInputElement).value.toUpperCase())}
        />
        ${num('tapes', _('Cartridges'), 0, 2000)} ${num('cleaningTapes', _('Cleaning cartridges'), 0, 8)}
        ${num('capacityMB', _('Capacity per cartridge (MB)'), 100, 18000000)}
        ${num('compression', _('Compression (0 off, 1–9)'), 0, 9)}
        <span></span>
        <span>
          <button @click=${() => this.makePlan()}>${_('Show plan')}</button>
          <button class="primary" ?disabled=${!this.plan} @click=${() => this.create()}>${_('Create')}</button>
        </span>
      </form>
      ${this.wizardError ? html`<cal-error .error=${this.wizardError}></cal-error>` : nothing}
      ${
        this.plan
          ? html`<h4>${_('Plan')}</h4>
            <pre aria-label=${_('Commands')}>${this.plan.commands.map((c) => c.join(' ')).join('\n')}</pre>
            ${(this.plan.files ?? []).map((f) => html`<details><summary>${f.path}</summary><pre>${f.diff}</pre></details>`)}`
          : nothing
      }`;
  }

  override render() {
    const vtlDown = this.vtl.value?.status.available === false ? this.vtl.value.status.reason : undefined;
    const down =
      this.changers.status === TaskStatus.ERROR ? unavailableReason(this.changers.error) : undefined;
    // the wizard's plan (a dry run) works without mhvtl: the button stays, its title says why Create will not
    const vtlTitle = vtlDown ? format(_('mhvtl cannot run here: $0'), vtlDown) : undefined;
    return html`<div class="toolbar">
        <h2>${_('Tape & VTL')}</h2>
        <span class="spacer"></span>
        <button data-action="new-vtl" title=${vtlTitle ?? nothing} @click=${() => (this.wizardOpen = !this.wizardOpen)}>${_('New virtual library…')}</button>
      </div>
      ${unavailableBanner(_('Tape'), down)}
      ${this.wizardOpen ? this.renderWizard() : nothing}
      ${renderTask(
        this.changers,
        (list) =>
          list.length
            ? html`${list.map((c) => html`<cal-tape-library .changer=${c}></cal-tape-library>`)}`
            : emptyState(
                _(
                  'No tape changer configured: add one under tape.changers in calypso.yaml (its device, e.g. /dev/sg3, and its drives), or create a virtual library.',
                ),
                { label: _('New virtual library…'), run: () => (this.wizardOpen = true) },
              ),
        { quietUnavailable: true },
      )}
      <h3>${_('Virtual libraries')}</h3>
      ${renderTask(
        this.vtl,
        (v) =>
          html`${
            v.status.available
              ? nothing
              : html`<p class="muted">${format(_('mhvtl cannot run here: $0'), v.status.reason ?? '')}</p>`
          }
        ${
          v.libraries.length
            ? html`<ul>
              ${v.libraries.map(
                (l) =>
                  html`<li>${l.name} (${l.personality}, ${l.drives.length} ${_('drives')}, ${l.slots} ${_('slots')})</li>`,
              )}
            </ul>`
            : html`<p class="muted">${_('No virtual library yet.')}</p>`
        }`,
      )}`;
  }
}
