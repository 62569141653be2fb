/**
 * Capacity per pool as a horizontal bar chart (HTML bars: a handful of bars needs no chart
 * library, and text stays at the page's size). Each bar is a meter with its numbers as label.
 */
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { styleMap } from 'lit/directives/style-map.js';
import { _, format, formatBytes } from '../i18n.js';
import { base } from '../styles.js';

export interface CapacityItem {
  name: string;
  used: number;
  size: number;
  health?: string;
}

@customElement('cal-capacity-chart')
export class CapacityChart extends LitElement {
  static override styles = [
    base,
    css`
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.75rem;
      }
      .label {
        display: flex;
        justify-content: space-between;
        gap: 1rem;
      }
      .track {
        height: 0.875rem;
        background: var(--cal-bg-subtle);
        border: 1px solid var(--cal-border);
      }
      .used {
        height: 100%;
        background: var(--cal-primary);
        min-width: 2px;
      }
      .used.high {
        background: var(--cal-warning);
      }
      .used.full {
        background: var(--cal-danger);
      }
    `,
  ];

  @property({ attribute: false }) items: CapacityItem[] = [];

  override render() {
    if (this.items.length === 0) return html`<p class="muted">${_('No pools yet.')}</p>`;
    return html`<ul aria-label=${_('Capacity per pool')}>
      ${this.items.map((it) => {
        const pct = it.size > 0 ? Math.min(100, (it.used / it.size) * 100) : 0;
        const cls = pct >= 90 ? 'used full' : pct >= 80 ? 'used high' : 'used';
        const numbers = format(
          _('$0 of $1 used ($2 %)'),
          formatBytes(it.used),
          formatBytes(it.size),
          pct.toFixed(0),
        );
        return html`<li data-pool=${it.name}>
          <div class="label"><span>${it.name}</span><span class="muted">${numbers}</span></div>
          <div
            class="track"
            role="meter"
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=${Math.round(pct)}
            aria-label=${`${it.name}: ${numbers}`}
          >
            <div class=${cls} style=${styleMap({ width: `${pct}%` })}></div>
          </div>
        </li>`;
      })}
    </ul>`;
  }
}
