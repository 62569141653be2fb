/**
 * Alerts: what needs attention (active first, then acknowledged), acknowledge one or a
 * selection, the history of cleared ones; and the notification targets with their delivery
 * status, a "Send test" button and a form for a new one.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  ALERT_TOPICS,
  type Alert,
  type AlertQuery,
  ackAlerts,
  deleteTarget,
  levelBadge,
  listAlerts,
  listTargets,
  setTarget,
  targetFromForm,
  targetWhere,
  testTarget,
} from '../data/alerts.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';

const VIEWS: { id: string; label: string; q: AlertQuery }[] = [
  { id: 'open', label: 'Open', q: { state: 'open' } },
  { id: 'cleared', label: 'History (cleared)', q: { state: 'cleared' } },
  { id: 'all', label: 'All', q: {} },
];

@customElement('cal-alerts')
export class AlertsPage extends LitElement {
  static override styles = [
    base,
    css`
      td.detail {
        max-width: 32rem;
        font-size: 0.9rem;
      }
      form.target {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr));
        gap: 0.5rem;
        align-items: end;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private view = 'open';
  @state() private level = '';
  @state() private selected = new Set<string>();
  @state() private error: unknown;
  @state() private testResult: Record<string, string> = {};
  @state() private kind = 'webhook';
  @state() private problems: string[] = [];
  private off: (() => void) | undefined;

  private alerts = new Task(this, {
    task: ([c, v, l], { signal }) => {
      const q = {
        ...(VIEWS.find((x) => x.id === v)?.q ?? {}),
        ...(l ? { level: l as Alert['level'] } : {}),
        limit: 500,
      };
      return listAlerts(c as AgentClient, q, { signal });
    },
    args: () => [this.client, this.view, this.level] as const,
  });

  private targets = new Task(this, {
    task: ([c], { signal }) => listTargets(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = this.client.on(ALERT_TOPICS, () => this.alerts.run());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private async ack(keys: string[]) {
    this.error = undefined;
    try {
      await ackAlerts(this.client, keys);
      this.selected = new Set();
      await this.alerts.run();
    } catch (e) {
      this.error = e;
    }
  }

  private async test(id: string) {
    this.testResult = { ...this.testResult, [id]: _('Sending…') };
    try {
      const r = await testTarget(this.client, id);
      this.testResult = { ...this.testResult, [id]: r.delivered ? _('Delivered') : _('Not delivered') };
    } catch (e) {
      this.testResult = { ...this.testResult, [id]: (e as Error).message };
    }
    await this.targets.run();
  }

  private async addTarget(e: SubmitEvent) {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v)])) as Record<
      string,
      string
    >;
    const r = targetFromForm({ ...f, kind: this.kind });
    if ('problems' in r) {
      this.problems = r.problems;
      return;
    }
    this.problems = [];
    this.error = undefined;
    try {
      await setTarget(this.client, r.target, { password: r.password, secret: r.secret });
      form.reset();
      await this.targets.run();
    } catch (err) {
      this.error = err;
    }
  }

  override render() {
    return html`<h2>${_('Alerts')}</h2>
      <div class="toolbar" role="toolbar">
        ${VIEWS.map(
          (v) =>
            html`<button
              class=${v.id === this.view ? '' : 'link'}
              data-view=${v.id}
              aria-pressed=${v.id === this.view}
              @click=${() => {
                this.view = v.id;
                this.selected = new Set();
              }}
            >
              ${_(v.label)}
            </button>`,
        )}
        <label class="sr-only" for="lvl">${_('Level')}</label>
        <select id="lvl" @change=${(e: Event) => (this.level = (e.target as HTMLSelectElement).value)}>
          <option value="">${_('any level')}</option>
          <option value="critical">${_('critical')}</option>
          <option value="warning">${_('warning')}</option>
          <option value="info">${_('info')}</option>
        </select>
        <span class="spacer"></span>
        <button
          data-action="ack-selected"
          ?disabled=${this.selected.size === 0}
          @click=${() => this.ack([...this.selected])}
        >
          ${format(_('Acknowledge selected ($0)'), this.selected.size)}
        </button>
      </div>
      <cal-error .error=${this.error}></cal-error>
      ${renderTask(this.alerts, (r) =>
        r.items.length
          ? html`<table data-alerts>
              <thead>
                <tr>
                  <th><span class="sr-only">${_('Select')}</span></th>
                  <th>${_('Level')}</th>
                  <th>${_('Alert')}</th>
                  <th>${_('Source')}</th>
                  <th>${_('Last seen')}</th>
                  <th>${_('State')}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${r.items.map((a) => this.renderAlert(a))}
              </tbody>
            </table>`
          : html`<p class="muted" data-empty>${this.view === 'open' ? _('Nothing needs attention.') : _('No alerts.')}</p>`,
      )}
      <h3>${_('Notification targets')}</h3>
      ${renderTask(this.targets, (ts) =>
        ts.length
          ? html`<table data-targets>
              <thead>
                <tr>
                  <th>${_('Target')}</th>
                  <th>${_('Sends to')}</th>
                  <th>${_('From level')}</th>
                  <th>${_('Digest')}</th>
                  <th>${_('Delivery')}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${ts.map(
                  (t) => html`<tr data-target=${t.target.id}>
                    <td>${t.target.id} <span class="muted">(${t.target.kind})</span></td>
                    <td>${targetWhere(t.target)}</td>
                    <td>${t.target.minLevel ?? 'warning'}</td>
                    <td>
                      ${
                        t.target.digestMinutes === 0
                          ? _('none')
                          : format(_('every $0 min'), t.target.digestMinutes ?? 60)
                      }
                    </td>
                    <td>
                      ${
                        t.status.lastError
                          ? html`<span class="badge bad" title=${t.status.lastErrorAt ?? ''}>${t.status.lastError}</span>`
                          : t.status.lastSuccess
                            ? html`<span class="badge ok">${format(_('delivered $0'), t.status.lastSuccess)}</span>`
                            : html`<span class="muted">${_('nothing sent yet')}</span>`
                      }
                      ${t.status.pending ? html` · ${format(_('$0 waiting'), t.status.pending)}` : nothing}
                      ${t.status.secretSet ? nothing : html` · <span class="badge warn">${_('secret not set')}</span>`}
                    </td>
                    <td>
                      <button data-action="test" @click=${() => this.test(t.target.id)}>${_('Send test')}</button>
                      <span class="muted" data-test-result>${this.testResult[t.target.id] ?? ''}</span>
                      <button
                        class="link"
                        @click=${async () => {
                          await deleteTarget(this.client, t.target.id).catch((e) => (this.error = e));
                          await this.targets.run();
                        }}
                      >
                        ${_('Remove')}
                      </button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">${_('No notification targets: alerts are only seen here.')}</p>`,
      )}
      ${this.renderForm()}`;
  }

  private renderAlert(a: Alert) {
    const open = a.state !== 'cleared';
    return html`<tr data-key=${a.key} data-state=${a.state}>
      <td>
        ${
          open
            ? html`<input
              type="checkbox"
              aria-label=${format(_('Select $0'), a.title)}
              .checked=${this.selected.has(a.key)}
              @change=${(e: Event) => {
                const s = new Set(this.selected);
                if ((e.target as HTMLInputElement).checked) s.add(a.key);
                else s.delete(a.key);
                this.selected = s;
              }}
            />`
            : nothing
        }
      </td>
      <td><span class=${levelBadge(a.level)}>${a.level}</span></td>
      <td class="detail">
        <strong>${a.title}</strong>${a.count > 1 ? html` <span class="muted">×${a.count}</span>` : nothing}
        ${a.detail ? html`<div>${a.detail}</div>` : nothing}
      </td>
      <td>${a.source}</td>
      <td>${a.lastSeen.replace('T', ' ').slice(0, 19)}</td>
      <td>
        ${a.state}${a.ackedBy ? html` <span class="muted">(${a.ackedBy})</span>` : nothing}
      </td>
      <td>
        ${
          a.state === 'active'
            ? html`<button data-action="ack" @click=${() => this.ack([a.key])}>${_('Acknowledge')}</button>`
            : nothing
        }
      </td>
    </tr>`;
  }

  private renderForm() {
    return html`<details>
      <summary>${_('Add a notification target')}</summary>
      <form class="target" @submit=${this.addTarget} data-form="target">
        <label
          >${_('Kind')}
          <select name="kind" @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value)}>
            <option value="webhook">${_('Webhook')}</option>
            <option value="smtp">${_('E-mail (SMTP)')}</option>
            <option value="sendmail">${_('E-mail (sendmail)')}</option>
          </select></label
        >
        <label>${_('Id')} <input name="id" required placeholder="ops-mail" /></label>
        <label
          >${_('From level')}
          <select name="minLevel">
            <option value="warning">${_('warning')}</option>
            <option value="critical">${_('critical')}</option>
            <option value="info">${_('info')}</option>
          </select></label
        >
        <label title=${_('Repeats of an alert already sent are summed up in one message at most this often; 0: never')}
          >${_('Digest of repeats (minutes)')}
          <input name="digestMinutes" type="number" min="0" max="10080" value="60"
        /></label>
        ${
          this.kind === 'webhook'
            ? html`<label>${_('URL')} <input name="url" placeholder="https://hooks.example/calypso" /></label>
              <label>${_('Signing secret')} <input name="secret" type="password" autocomplete="off" /></label>`
            : html`<label>${_('To')} <input name="to" placeholder="ops@example.org" /></label>
              <label>${_('From')} <input name="from" placeholder="calypso@example.org" /></label>`
        }
        ${
          this.kind === 'smtp'
            ? html`<label>${_('SMTP server')} <input name="host" /></label>
              <label>${_('Port')} <input name="port" type="number" value="587" /></label>
              <label
                >${_('Security')}
                <select name="security">
                  <option value="starttls">STARTTLS</option>
                  <option value="tls">TLS</option>
                  <option value="none">${_('none')}</option>
                </select></label
              >
              <label>${_('User')} <input name="user" autocomplete="off" /></label>
              <label>${_('Password')} <input name="password" type="password" autocomplete="off" /></label>`
            : nothing
        }
        <button type="submit">${_('Add target')}</button>
      </form>
      ${
        this.problems.length
          ? html`<ul class="problems" role="alert">
            ${this.problems.map((p) => html`<li>${p}</li>`)}
          </ul>`
          : nothing
      }
    </details>`;
  }
}
