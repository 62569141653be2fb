/** A determinate progress bar with its percentage and what is being done (no spinner without progress). */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { JobSummary } from '../data/jobs.js';
import { base } from '../styles.js';

@customElement('cal-progress')
export class ProgressBar extends LitElement {
  static override styles = [
    base,
    css`
      .row {
        display: flex;
        align-items: center;
        gap: 0.75rem;
      }
      .track {
        flex: 1;
        height: 0.5rem;
        background: var(--cal-bg-subtle);
        border: 1px solid var(--cal-border);
      }
      .bar {
        height: 100%;
        background: var(--cal-primary);
        transition: width 0.3s ease;
      }
      :host([state='success']) .bar {
        background: var(--cal-success);
      }
      :host([state='failed']) .bar,
      :host([state='aborted']) .bar {
        background: var(--cal-danger);
      }
      .pct {
        min-width: 3.5rem;
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .desc {
        font-size: 0.875rem;
        color: var(--cal-fg-muted);
      }
    `,
  ];

  @property({ type: Number }) value = 0;
  @property() label = '';
  @property() description = '';
  @property({ reflect: true }) state = 'running';

  override render() {
    const v = Math.max(0, Math.min(100, this.value || 0));
    return html`<div
        class="row"
        role="progressbar"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${Math.round(v)}
        aria-label=${this.label}
        aria-valuetext=${`${Math.round(v)} % ${this.description}`}
      >
        <div class="track"><div class="bar" style=${styleMap({ width: `${v}%` })}></div></div>
        <span class="pct">${v.toFixed(v < 10 && v > 0 ? 1 : 0)} %</span>
      </div>
      ${this.description ? html`<div class="desc">${this.description}</div>` : ''}`;
  }
}

/** A job's progress bar (100 % once it succeeded), or nothing without a job. */
export function jobProgress(
  j: JobSummary | undefined,
  cls: string,
  label: string,
  description: string = j?.progress?.description ?? '',
): unknown {
  if (!j) return nothing;
  return html`<cal-progress
    class=${cls}
    label=${label}
    .value=${j.state === 'success' ? 100 : (j.progress?.percent ?? 0)}
    .description=${description}
    state=${j.state}
  ></cal-progress>`;
}
