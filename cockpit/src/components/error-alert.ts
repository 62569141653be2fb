/** An error in plain words (rpc/errors.ts `explain`), announced to screen readers. */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { explain } from '../rpc/errors.js';
import { base } from '../styles.js';

@customElement('cal-error')
export class ErrorAlert extends LitElement {
  static override styles = [
    base,
    css`
      .alert {
        border-top: 2px solid var(--cal-danger);
        background: var(--cal-danger-bg);
        padding: 0.75rem 1rem;
        margin-bottom: 1rem;
        box-shadow: var(--cal-shadow);
      }
      .alert.warn {
        border-top-color: var(--cal-warning);
        background: var(--cal-warning-bg);
      }
      .title {
        font-weight: 500;
        color: var(--cal-danger);
      }
      .warn .title {
        color: var(--cal-warning-fg);
      }
      p {
        margin: 0.25rem 0 0;
      }
      pre {
        margin: 0.5rem 0 0;
        white-space: pre-wrap;
        font-size: 0.85rem;
      }
    `,
  ];

  @property({ attribute: false }) error: unknown;
  /** `warn` for errors that only limit a page (an unavailable subsystem). */
  @property() tone: 'danger' | 'warn' = 'danger';

  override render() {
    if (this.error === undefined || this.error === null) return nothing;
    const e = explain(this.error);
    const tone =
      this.tone === 'warn' || (this.error as { kind?: string }).kind === 'unavailable' ? 'warn' : '';
    return html`<div class="alert ${tone}" role="alert">
      <div class="title">${e.title}</div>
      <p class="detail">${e.detail}</p>
      ${e.message ? html`<pre class="message">${e.message}</pre>` : nothing}
    </div>`;
  }
}
