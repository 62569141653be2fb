/**
 * The bell on every page: the number of active warnings and criticals, coloured by the worst.
 * It follows the agent's alert.* events (and re-reads every minute in case one was missed);
 * a click opens the Alerts page.
 */
import { consume } from '@lit/context';
import { css, html, LitElement, svg } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { cockpit } from '../cockpit.js';
import { clientContext } from '../context.js';
import { ALERT_TOPICS, type AlertCount, bellCount, bellLevel, countAlerts } from '../data/alerts.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';

/**
 * The bell as an inline SVG (a browser without an emoji font shows 🔔 as an empty box); it
 * takes the text colour, so the level's colour applies to it.
 */
const bellIcon = svg`<svg aria-hidden="true" class="bell" viewBox="0 0 16 16" width="16" height="16"><path fill="currentColor" d="M8 1.5a1 1 0 0 1 1 1v.6A4.5 4.5 0 0 1 12.5 7.5v2.8l1.3 1.6a.6.6 0 0 1-.5 1H2.7a.6.6 0 0 1-.5-1l1.3-1.6V7.5A4.5 4.5 0 0 1 7 3.1v-.6a1 1 0 0 1 1-1ZM6.3 13.9h3.4a1.7 1.7 0 0 1-3.4 0Z"/></svg>`;

@customElement('cal-alert-bell')
export class AlertBell extends LitElement {
  static override styles = css`
    a {
      display: inline-flex;
      align-items: center;
      gap: 0.25rem;
      text-decoration: none;
      color: inherit;
      padding: 0.1rem 0.5rem;
      border-radius: 1rem;
      border: 1px solid var(--cal-border, #ccc);
    }
    a[data-level='critical'] {
      background: #c9190b;
      color: #fff;
    }
    a[data-level='warning'] {
      background: #f0ab00;
      color: #000;
    }
  `;

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private count: AlertCount | undefined;
  private off: (() => void) | undefined;
  private timer: number | undefined;

  private refresh = () => {
    countAlerts(this.client)
      .then((c) => {
        this.count = c;
      })
      .catch(() => {});
  };

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = this.client.on(ALERT_TOPICS, this.refresh);
    this.timer = window.setInterval(this.refresh, 60_000);
    this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    window.clearInterval(this.timer);
  }

  override render() {
    const n = bellCount(this.count);
    const label = n ? format(_('$0 active alerts'), n) : _('No active alerts');
    return html`<a
      href="#/alerts"
      data-level=${bellLevel(this.count)}
      data-count=${n}
      aria-label=${label}
      title=${label}
      @click=${(e: MouseEvent) => {
        e.preventDefault();
        cockpit.location.go(['alerts']);
      }}
      >${bellIcon}<span class="n">${n}</span></a
    >`;
  }
}
