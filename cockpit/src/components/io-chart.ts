/**
 * Pool I/O over time: read and write bytes per second, summed over the pools, as a line chart
 * (uPlot, loaded with the first sample so it stays out of the main bundle), with the latest
 * figures of each pool in a table under it — the same numbers `pool.iostat` returns.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { IoPoint, PoolIo } from '../data/iostat.js';
import { _, formatBytes } from '../i18n.js';
import { base } from '../styles.js';

type UPlot = import('uplot');

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

@customElement('cal-io-chart')
export class IoChart extends LitElement {
  static override styles = [
    base,
    css`
      .plot {
        min-height: 180px;
      }
      table td.num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  @property({ attribute: false }) points: IoPoint[] = [];
  @property({ attribute: false }) pools: PoolIo[] = [];
  @query('.plot') private plotEl!: HTMLDivElement;
  private plot: UPlot | undefined;
  private loading: Promise<void> | undefined;
  private resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: 180 }));

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(240, this.plotEl?.clientWidth || 600);
  }

  private data(): [number[], number[], number[]] {
    return [this.points.map((p) => p.t), this.points.map((p) => p.read), this.points.map((p) => p.write)];
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('points') || this.points.length === 0) return;
    if (this.plot) {
      this.plot.setData(this.data());
      return;
    }
    this.loading ??= this.create();
  }

  private async create(): Promise<void> {
    const [{ default: uPlot }, uplotCss] = await Promise.all([
      import('uplot'),
      import('uplot/dist/uPlot.min.css'),
    ]);
    const root = this.renderRoot as ShadowRoot;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(uplotCss.default);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    const read = cssVar(this, '--cal-primary', '#0066cc');
    const write = cssVar(this, '--cal-warning', '#f0ab00');
    const axis = { stroke: cssVar(this, '--cal-fg', '#151515'), grid: { stroke: 'rgba(128,128,128,0.2)' } };
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 180,
        series: [
          {},
          {
            label: _('Read'),
            stroke: read,
            width: 2,
            value: (_u, v) => (v == null ? '–' : `${formatBytes(v)}/s`),
          },
          {
            label: _('Write'),
            stroke: write,
            width: 2,
            value: (_u, v) => (v == null ? '–' : `${formatBytes(v)}/s`),
          },
        ],
        legend: { show: false }, // the table under the chart has the figures
        axes: [
          {
            ...axis,
            space: 90,
            incrs: [15, 30, 60, 120, 300, 600, 1800, 3600],
            values: (_u, vals) =>
              vals.map((v) =>
                new Date(v * 1000).toLocaleTimeString([], {
                  hour: '2-digit',
                  minute: '2-digit',
                  second: '2-digit',
                }),
              ),
          },
          { ...axis, size: 96, values: (_u, vals) => vals.map((v) => `${formatBytes(v)}/s`) },
        ],
        scales: {
          // the last ten minutes at least (a point every 5 s), so a new chart is not stretched
          x: { time: true, range: (_u, min, max) => [Math.min(min, max - 600), max] },
          y: { range: (_u, _min, max) => [0, Math.max(1024, max)] },
        },
      },
      this.data(),
      this.plotEl,
    );
    this.resize.observe(this.plotEl);
  }

  override render() {
    const last = this.points.at(-1);
    return html`<div
        class="plot"
        role="img"
        aria-label=${_('Pool I/O over time')}
        data-samples=${this.points.length}
        data-read=${last?.read ?? 0}
        data-write=${last?.write ?? 0}
      ></div>
      ${
        this.pools.length === 0
          ? html`<p class="muted">${this.points.length ? _('No pools yet.') : _('Measuring…')}</p>`
          : html`<table>
            <thead>
              <tr>
                <th>${_('Pool')}</th>
                <th>${_('Read')}</th>
                <th>${_('Write')}</th>
                <th>${_('Read ops/s')}</th>
                <th>${_('Write ops/s')}</th>
              </tr>
            </thead>
            <tbody>
              ${this.pools.map(
                (
                  p,
                ) => html`<tr data-pool=${p.name} data-write-bytes=${p.writeBytes} data-read-bytes=${p.readBytes}>
                  <td>${p.name}</td>
                  <td class="num">${formatBytes(p.readBytes)}/s</td>
                  <td class="num">${formatBytes(p.writeBytes)}/s</td>
                  <td class="num">${Math.round(p.readOps)}</td>
                  <td class="num">${Math.round(p.writeOps)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
      }
      ${nothing}`;
  }
}
