/** A pool's vdev tree as an indented table: name, type, state and error counters per device. */
import { css, html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Vdev } from '../data/pools.js';
import { _ } from '../i18n.js';
import { base, healthClass } from '../styles.js';

@customElement('cal-vdev-tree')
export class VdevTree extends LitElement {
  static override styles = [
    base,
    css`
      td.name {
        font-family: var(--cal-mono);
      }
      .d1 {
        padding-left: 2rem;
      }
      .d2 {
        padding-left: 3.5rem;
      }
      .d3 {
        padding-left: 5rem;
      }
      td.num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .nonzero {
        color: var(--cal-danger);
        font-weight: 500;
      }
    `,
  ];

  @property({ attribute: false }) vdevs: Vdev[] = [];
  @property() pool = '';

  override render() {
    const rows: { v: Vdev; depth: number }[] = [];
    const walk = (v: Vdev, depth: number) => {
      rows.push({ v, depth });
      for (const c of v.children) walk(c, depth + 1);
    };
    for (const v of this.vdevs) walk(v, 0);
    return html`<table aria-label=${`${_('Devices of')} ${this.pool}`}>
      <thead>
        <tr>
          <th>${_('Device')}</th>
          <th>${_('Type')}</th>
          <th>${_('State')}</th>
          <th class="num">${_('Read')}</th>
          <th class="num">${_('Write')}</th>
          <th class="num">${_('Checksum')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          ({ v, depth }) => html`<tr aria-level=${depth + 1} data-vdev=${v.name}>
            <td class="name d${Math.min(depth, 3)}">${v.name}${v.class && v.class !== 'data' ? html` <span class="badge">${v.class}</span>` : ''}</td>
            <td>${v.type}</td>
            <td><span class=${healthClass(v.state)}>${v.state}</span>${v.activity ? html` <span class="muted">${v.activity}</span>` : ''}</td>
            ${[v.read, v.write, v.checksum].map((n) => html`<td class="num ${n ? 'nonzero' : ''}">${n}</td>`)}
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
