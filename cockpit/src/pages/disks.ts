/**
 * Disks: every disk with HBA, enclosure slot, size, model, serial and SMART status; search,
 * filters and sorting; the locate LED. Smooth with thousands of rows: only the rows in view
 * (plus a margin) are in the DOM, between two spacer rows that keep the scrollbar honest.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { styleMap } from 'lit/directives/style-map.js';
import '../components/error-alert.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  DISK_TOPICS,
  type Disk,
  diskSearchText,
  listDisks,
  readSmart,
  type Smart,
  setLocate,
  smartLabel,
} from '../data/disks.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, healthClass } from '../styles.js';

const ROW_H = 37;
const OVERSCAN = 10;

type SortKey = 'name' | 'size' | 'model' | 'serial' | 'transport' | 'hba' | 'slot' | 'smart';

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'name', label: _('Name') },
  { key: 'model', label: _('Model') },
  { key: 'serial', label: _('Serial') },
  { key: 'size', label: _('Size') },
  { key: 'transport', label: _('Transport') },
  { key: 'hba', label: _('HBA') },
  { key: 'slot', label: _('Enclosure slot') },
  { key: 'smart', label: _('SMART') },
];

function sortValue(d: Disk, k: SortKey, smart: Map<string, Smart>): string | number {
  switch (k) {
    case 'size':
      return d.size;
    case 'slot':
      return d.enclosure ? `${d.enclosure.id}/${String(d.enclosure.slot).padStart(5, '0')}` : '';
    case 'smart':
      return smartLabel(smart.get(d.id));
    case 'name':
      // sdb before sdaa: shorter kernel names first
      return `${d.name.length.toString().padStart(3, '0')}${d.name}`;
    default:
      return d[k] ?? '';
  }
}

@customElement('cal-disks')
export class DisksPage extends LitElement {
  static override styles = [
    base,
    css`
      .scroller {
        height: max(20rem, calc(100vh - 17rem));
        overflow: auto;
        background: var(--cal-bg);
        box-shadow: var(--cal-shadow);
        contain: strict;
      }
      table {
        table-layout: fixed;
      }
      /* column widths (the header row sets them with table-layout: fixed) */
      th:nth-child(1) {
        width: 11rem;
      }
      th:nth-child(3) {
        width: 11rem;
      }
      th:nth-child(4) {
        width: 7rem;
      }
      th:nth-child(5),
      th:nth-child(8),
      th:nth-child(9) {
        width: 6.5rem;
      }
      th:nth-child(6),
      th:nth-child(7) {
        width: 9rem;
      }
      th {
        position: sticky;
        top: 0;
        background: var(--cal-bg);
        z-index: 1;
        box-shadow: inset 0 -1px 0 var(--cal-border);
      }
      th button {
        border: none;
        padding: 0;
        color: inherit;
        font-weight: 500;
        background: none;
      }
      td {
        height: ${ROW_H}px;
        padding-top: 0;
        padding-bottom: 0;
        line-height: ${ROW_H - 1}px;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      /* rows must be exactly ROW_H tall: the spacers are computed from it */
      td button {
        padding: 0 0.25rem;
        line-height: 1.5;
        vertical-align: middle;
      }
      tr.spacer td {
        border: none;
        padding: 0;
        height: auto;
      }
      .count {
        color: var(--cal-fg-muted);
      }
      input[type='search'] {
        min-width: 16rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private search = '';
  @state() private transport = '';
  @state() private smart = '';
  @state() private sort: { key: SortKey; desc: boolean } = { key: 'name', desc: false };
  @state() private first = 0;
  @state() private visible = 40;
  @state() private actionError: unknown;
  @state() private locating = new Set<string>();
  /** SMART verdicts read so far (disk.smart runs smartctl: on demand, not for a thousand disks at once) */
  @state() private smartOf = new Map<string, Smart>();
  @state() private smartBusy = new Set<string>();
  private off: (() => void) | undefined;
  private raf = 0;
  private cache: { src: Disk[] | undefined; key: string; rows: Disk[] } = {
    src: undefined,
    key: '',
    rows: [],
  };
  private rendered = false;

  private disks = new Task(this, {
    task: ([c], { signal }) => listDisks(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = this.client.on(DISK_TOPICS, () => void this.disks.run());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    cancelAnimationFrame(this.raf);
  }

  override updated(): void {
    // User Timing mark for the first rows on screen (the benchmark reads it; so can a profiler)
    if (!this.rendered && this.disks.value && this.renderRoot.querySelector('tr[data-disk]')) {
      this.rendered = true;
      performance.mark('calypso:disks-rendered');
    }
  }

  /** Filtered and sorted rows, recomputed only when the inputs change. */
  private rows(all: Disk[]): Disk[] {
    const key = JSON.stringify([this.search, this.transport, this.smart, this.sort, this.smartOf.size]);
    if (this.cache.src === all && this.cache.key === key) return this.cache.rows;
    const words = this.search.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = all.filter((d) => {
      if (this.transport && (d.transport ?? '') !== this.transport) return false;
      if (this.smart) {
        const s = smartLabel(this.smartOf.get(d.id));
        if (this.smart === 'unknown' ? s !== '' : s !== this.smart) return false;
      }
      if (words.length) {
        const text = diskSearchText(d);
        return words.every((w) => text.includes(w));
      }
      return true;
    });
    const { key: k, desc } = this.sort;
    rows.sort((a, b) => {
      const x = sortValue(a, k, this.smartOf);
      const y = sortValue(b, k, this.smartOf);
      const r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return desc ? -r : r;
    });
    this.cache = { src: all, key, rows };
    return rows;
  }

  private onScroll(e: Event) {
    const el = e.target as HTMLElement;
    cancelAnimationFrame(this.raf);
    this.raf = requestAnimationFrame(() => {
      this.first = Math.max(0, Math.floor(el.scrollTop / ROW_H) - OVERSCAN);
      this.visible = Math.ceil(el.clientHeight / ROW_H) + 2 * OVERSCAN;
    });
  }

  private async checkSmart(d: Disk) {
    this.actionError = undefined;
    this.smartBusy = new Set(this.smartBusy).add(d.id);
    try {
      const s = await readSmart(this.client, d);
      this.smartOf = new Map(this.smartOf).set(d.id, s);
    } catch (e) {
      this.actionError = e;
    } finally {
      const b = new Set(this.smartBusy);
      b.delete(d.id);
      this.smartBusy = b;
    }
  }

  private async toggleLocate(d: Disk) {
    const on = !this.locating.has(d.id);
    this.actionError = undefined;
    try {
      await setLocate(this.client, d, on);
      const next = new Set(this.locating);
      if (on) next.add(d.id);
      else next.delete(d.id);
      this.locating = next;
    } catch (e) {
      this.actionError = e;
    }
  }

  private setSort(key: SortKey) {
    this.sort = { key, desc: this.sort.key === key ? !this.sort.desc : false };
  }

  override render() {
    return html`<h2>${_('Disks')}</h2>
      <cal-error .error=${this.actionError}></cal-error>
      ${renderTask(this.disks, (all) => this.renderTable(all))}`;
  }

  private renderTable(all: Disk[]) {
    const rows = this.rows(all);
    const transports = [...new Set(all.map((d) => d.transport).filter(Boolean))].sort() as string[];
    const first = Math.min(this.first, Math.max(0, rows.length - this.visible));
    const slice = rows.slice(first, first + this.visible);
    const after = Math.max(0, rows.length - first - slice.length);
    return html`<div class="toolbar" role="search">
        <label class="sr-only" for="q">${_('Search disks')}</label>
        <input
          id="q"
          type="search"
          placeholder=${_('Search name, model, serial, WWN…')}
          .value=${this.search}
          @input=${(e: InputEvent) => {
            this.search = (e.target as HTMLInputElement).value;
          }}
        />
        <label class="sr-only" for="tr">${_('Transport')}</label>
        <select id="tr" @change=${(e: Event) => (this.transport = (e.target as HTMLSelectElement).value)}>
          <option value="">${_('All transports')}</option>
          ${transports.map((t) => html`<option value=${t} ?selected=${t === this.transport}>${t}</option>`)}
        </select>
        <label class="sr-only" for="sm">${_('SMART status')}</label>
        <select id="sm" @change=${(e: Event) => (this.smart = (e.target as HTMLSelectElement).value)}>
          <option value="">${_('Any SMART status')}</option>
          <option value="PASSED">${_('Passed')}</option>
          <option value="FAILED">${_('Failed')}</option>
          <option value="unknown">${_('Not read')}</option>
        </select>
        <span class="spacer"></span>
        <span class="count" aria-live="polite" data-count=${rows.length}
          >${format(_('$0 of $1 disks'), rows.length, all.length)}</span
        >
        <button class="link" @click=${() => void this.disks.run()}>${_('Refresh')}</button>
      </div>
      <div class="scroller" tabindex="0" @scroll=${this.onScroll} aria-label=${_('Disk list')}>
        <table aria-rowcount=${rows.length + 1}>
          <thead>
            <tr aria-rowindex="1">
              ${COLUMNS.map(
                (c) =>
                  html`<th
                    aria-sort=${this.sort.key === c.key ? (this.sort.desc ? 'descending' : 'ascending') : 'none'}
                  >
                    <button @click=${() => this.setSort(c.key)}>
                      ${c.label}${this.sort.key === c.key ? (this.sort.desc ? ' ▾' : ' ▴') : ''}
                    </button>
                  </th>`,
              )}
              <th><span class="sr-only">${_('Locate')}</span></th>
            </tr>
          </thead>
          <tbody>
            <tr class="spacer" aria-hidden="true"><td colspan="9" style=${styleMap({ height: `${first * ROW_H}px` })}></td></tr>
            ${slice.map((d, i) => this.renderRow(d, first + i + 2))}
            <tr class="spacer" aria-hidden="true"><td colspan="9" style=${styleMap({ height: `${after * ROW_H}px` })}></td></tr>
          </tbody>
        </table>
        ${rows.length === 0 ? html`<p class="empty">${_('No disks match.')}</p>` : nothing}
      </div>`;
  }

  private renderRow(d: Disk, index: number) {
    const smart = smartLabel(this.smartOf.get(d.id));
    const locating = this.locating.has(d.id);
    return html`<tr aria-rowindex=${index} data-disk=${d.name}>
      <td title=${d.path}><strong>${d.name}</strong></td>
      <td title=${[d.vendor, d.model].filter(Boolean).join(' ')}>${d.model ?? '—'}</td>
      <td class="mono" title=${d.wwn ?? ''}>${d.serial ?? '—'}</td>
      <td>${formatBytes(d.size)}</td>
      <td>${d.transport ?? '—'}</td>
      <td class="mono">${d.hba ?? '—'}</td>
      <td>${d.enclosure ? `${d.enclosure.id.slice(-6)} / ${d.enclosure.slot}` : '—'}</td>
      <td>
        ${
          smart
            ? html`<span class=${healthClass(smart)} title=${this.smartOf.get(d.id)?.messages.join('\n') ?? ''}>${smart}</span>`
            : html`<button
              class="link"
              ?disabled=${this.smartBusy.has(d.id)}
              aria-label=${format(_('Read SMART status of $0'), d.name)}
              @click=${() => this.checkSmart(d)}
            >
              ${this.smartBusy.has(d.id) ? _('Reading…') : _('Check')}
            </button>`
        }
      </td>
      <td>
        ${
          d.enclosure
            ? html`<button
              class="link"
              aria-pressed=${locating ? 'true' : 'false'}
              aria-label=${format(_('Locate LED of $0'), d.name)}
              @click=${() => this.toggleLocate(d)}
            >
              ${locating ? _('Stop') : _('Locate')}
            </button>`
            : nothing
        }
      </td>
    </tr>`;
  }
}
