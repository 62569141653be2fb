/**
 * The bell on every page: the number of active warnings and criticals, coloured by the worst.
 * It follows the agent's alert.* events (and re-reads every minute in case one was missed);
 * a click opens the Alerts page.
 */
import { consume } from '@lit/context';
import { css, html, LitElement } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { cockpit } from '../cockpit.js';
import { clientContext } from '../context.js';
import { ALERT_TOPICS, type AlertCount, bellCount, bellLevel, countAlerts } from '../data/alerts.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';

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
      ><span aria-hidden="true">🔔</span><span class="n">${n}</span></a
    >`;
  }
}
