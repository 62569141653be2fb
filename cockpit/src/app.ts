/**
 * The application shell: one agent client for the page (shared through @lit/context), the
 * connection banner, the navigation and the current page, chosen by cockpit.location so that
 * URLs survive a reload (`/calypso#/pools`).
 */
import { provide } from '@lit/context';
import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { keyed } from 'lit/directives/keyed.js';
import { cockpit } from './cockpit.js';
import { clientContext, whoamiContext } from './context.js';
import { type WhoAmI, whoami } from './data/system.js';
import { _ } from './i18n.js';
import { AgentClient } from './rpc/client.js';
import { cockpitStreamTransport } from './rpc/transport.js';
import { base } from './styles.js';
import './components/error-alert.js';
import './pages/overview.js';
import './pages/disks.js';
import './pages/pools.js';
import './pages/datasets.js';
import './pages/jobs.js';
import './pages/audit.js';
import './pages/terminal.js';
import './pages/placeholder.js';
import './pages/backup.js';
import './pages/protection.js';
import './pages/tape.js';
import './pages/object.js';
import './pages/iscsi.js';
import './pages/shares.js';
import './pages/identities.js';
import './pages/alerts.js';
import './components/alert-bell.js';

interface PageDef {
  id: string;
  label: string;
  render: () => TemplateResult;
}

const PAGES: PageDef[] = [
  { id: 'overview', label: _('Overview'), render: () => html`<cal-overview></cal-overview>` },
  { id: 'alerts', label: _('Alerts'), render: () => html`<cal-alerts></cal-alerts>` },
  { id: 'disks', label: _('Disks'), render: () => html`<cal-disks></cal-disks>` },
  { id: 'pools', label: _('Pools'), render: () => html`<cal-pools></cal-pools>` },
  { id: 'datasets', label: _('Datasets & snapshots'), render: () => html`<cal-datasets></cal-datasets>` },
  { id: 'jobs', label: _('Jobs'), render: () => html`<cal-jobs></cal-jobs>` },
  { id: 'audit', label: _('Audit'), render: () => html`<cal-audit></cal-audit>` },
  { id: 'terminal', label: _('Terminal'), render: () => html`<cal-terminal></cal-terminal>` },
  { id: 'iscsi', label: _('iSCSI'), render: () => html`<cal-iscsi></cal-iscsi>` },
  { id: 'shares', label: _('Shares'), render: () => html`<cal-shares></cal-shares>` },
  { id: 'identities', label: _('Identities'), render: () => html`<cal-identities></cal-identities>` },
  { id: 'tape', label: _('Tape & VTL'), render: () => html`<cal-tape></cal-tape>` },
  { id: 'backup', label: _('Backup'), render: () => html`<cal-backup></cal-backup>` },
  {
    id: 'protection',
    label: _('Data protection'),
    render: () => html`<cal-protection></cal-protection>`,
  },
  {
    id: 'object',
    label: _('Object storage'),
    render: () => html`<cal-object></cal-object>`,
  },
];

@customElement('cal-app')
export class CalypsoApp extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        min-height: 100vh;
        background: var(--cal-page-bg);
      }
      header {
        background: var(--cal-bg);
        padding: 0.75rem 1.5rem 0;
        box-shadow: var(--cal-shadow);
      }
      .top {
        display: flex;
        align-items: baseline;
        gap: 1rem;
      }
      .who {
        margin-left: auto;
        font-size: 0.875rem;
        color: var(--cal-fg-muted);
      }
      nav ul {
        list-style: none;
        display: flex;
        flex-wrap: wrap;
        margin: 0.5rem 0 0;
        padding: 0;
        gap: 0;
      }
      nav a {
        display: block;
        padding: 0.5rem 1rem;
        color: var(--cal-fg-muted);
        text-decoration: none;
        border-bottom: 3px solid transparent;
      }
      nav a:hover {
        color: var(--cal-fg);
        border-bottom-color: var(--cal-border);
      }
      nav a[aria-current='page'] {
        color: var(--cal-fg);
        border-bottom-color: var(--cal-primary);
      }
      main {
        padding: 1.5rem;
      }
    `,
  ];

  @provide({ context: clientContext }) client = new AgentClient(cockpitStreamTransport());
  @provide({ context: whoamiContext }) @state() who: WhoAmI | undefined;
  @state() private page = 'overview';
  @state() private connection = this.client.state;
  /** bumped when the agent comes back after a lost connection: pages are re-created and reload */
  @state() private generation = 0;
  private lost = false;

  private onLocation = () => {
    const p = cockpit.location.path[0];
    this.page = PAGES.some((x) => x.id === p) ? p! : 'overview';
  };

  private onState = () => {
    this.connection = this.client.state;
    if (this.client.state === 'disconnected') this.lost = true;
    if (this.client.state === 'connected') {
      if (this.lost) {
        this.lost = false;
        this.generation++;
      }
      whoami(this.client)
        .then((w) => {
          this.who = w;
        })
        .catch(() => {});
    }
  };

  override connectedCallback(): void {
    super.connectedCallback();
    cockpit.addEventListener('locationchanged', this.onLocation);
    this.client.addEventListener('state', this.onState);
    this.onLocation();
    this.onState();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    cockpit.removeEventListener('locationchanged', this.onLocation);
    this.client.removeEventListener('state', this.onState);
  }

  private href(id: string): string {
    return `#${cockpit.location.encode([id])}`;
  }

  override render() {
    const current = PAGES.find((p) => p.id === this.page) ?? PAGES[0]!;
    return html`<header>
        <div class="top">
          <h1>${_('Calypso storage')}</h1>
          <cal-alert-bell></cal-alert-bell>
          ${this.who ? html`<span class="who" data-role=${this.who.role}>${this.who.user} · ${this.who.role}</span>` : nothing}
        </div>
        <nav aria-label=${_('Calypso sections')}>
          <ul>
            ${PAGES.map(
              (p) =>
                html`<li>
                  <a
                    href=${this.href(p.id)}
                    aria-current=${p.id === current.id ? 'page' : 'false'}
                    data-page=${p.id}
                    @click=${(e: MouseEvent) => {
                      e.preventDefault();
                      cockpit.location.go([p.id]);
                    }}
                    >${p.label}</a
                  >
                </li>`,
            )}
          </ul>
        </nav>
      </header>
      <main id="content">
        ${this.renderBanner()} ${keyed(this.generation, current.render())}
      </main>`;
  }

  private renderBanner() {
    if (this.connection === 'connected' || (this.connection === 'connecting' && !this.client.problem))
      return nothing;
    return html`<div class="card" role="status" data-connection=${this.connection}>
      <strong>${_('The Calypso agent cannot be reached.')}</strong>
      <span>${this.client.problem ?? ''}</span>
      <span class="muted">${_('Reconnecting…')}</span>
    </div>`;
  }
}
