/** Audit: the hash-chained audit log, filtered and paged, and a check of the chain. */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { type AuditFilter, type AuditVerify, OUTCOMES, queryAudit, verifyAudit } from '../data/audit.js';
import { formatDate } from '../format.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';

const PAGE = 100;

@customElement('cal-audit')
export class AuditPage extends LitElement {
  static override styles = [
    base,
    css`
      td.params {
        max-width: 24rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-family: var(--cal-mono);
        font-size: 0.85rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private filter: AuditFilter = { limit: PAGE, offset: 0 };
  @state() private verify: AuditVerify | undefined;
  @state() private error: unknown;
  @state() private verifying = false;

  private records = new Task(this, {
    task: ([c, f], { signal }) => queryAudit(c as AgentClient, f as AuditFilter, { signal }),
    args: () => [this.client, this.filter] as const,
  });

  private async runVerify() {
    this.error = undefined;
    this.verifying = true;
    try {
      this.verify = await verifyAudit(this.client);
    } catch (e) {
      this.error = e;
    } finally {
      this.verifying = false;
    }
  }

  override render() {
    return html`<h2>${_('Audit log')}</h2>
      <form
        class="toolbar"
        role="search"
        @submit=${(e: SubmitEvent) => {
          e.preventDefault();
          const f = e.target as HTMLFormElement;
          const v = (n: string) => (f.elements.namedItem(n) as HTMLInputElement).value.trim();
          this.filter = {
            limit: PAGE,
            offset: 0,
            method: v('method'),
            user: v('user'),
            outcome: OUTCOMES.find((o) => o === v('outcome')),
          };
        }}
      >
        <label class="sr-only" for="m">${_('Method')}</label>
        <input id="m" name="method" placeholder=${_('method, e.g. pool.*')} />
        <label class="sr-only" for="u">${_('User')}</label>
        <input id="u" name="user" placeholder=${_('user')} />
        <label class="sr-only" for="o">${_('Outcome')}</label>
        <select id="o" name="outcome">
          <option value="">${_('any outcome')}</option>
          ${OUTCOMES.map((o) => html`<option>${o}</option>`)}
        </select>
        <button type="submit">${_('Filter')}</button>
        <span class="spacer"></span>
        <button type="button" ?disabled=${this.verifying} @click=${this.runVerify}>${_('Verify chain')}</button>
      </form>
      <cal-error .error=${this.error}></cal-error>
      ${this.verify ? this.renderVerify(this.verify) : nothing}
      ${renderTask(this.records, (r) => {
        const last = Math.min(r.total, this.filter.offset + r.items.length);
        return html`<table>
            <thead>
              <tr>
                <th>#</th>
                <th>${_('Time')}</th>
                <th>${_('User')}</th>
                <th>${_('Via')}</th>
                <th>${_('Method')}</th>
                <th>${_('Outcome')}</th>
                <th>${_('Details')}</th>
              </tr>
            </thead>
            <tbody>
              ${r.items.map(
                (a) => html`<tr>
                  <td>${a.seq}</td>
                  <td>${formatDate(a.time)}</td>
                  <td>${a.user}</td>
                  <td>${a.transport}</td>
                  <td>${a.method}</td>
                  <td>
                    <span class=${a.outcome === 'ok' ? 'badge ok' : a.outcome === 'denied' || a.outcome === 'error' ? 'badge bad' : 'badge'}
                      >${a.outcome}</span
                    >
                  </td>
                  <td class="params" title=${JSON.stringify(a.params ?? a.detail ?? '')}>
                    ${a.error ? a.error.message : JSON.stringify(a.params ?? a.detail ?? '')}
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>
          <div class="toolbar">
            <span class="muted">${r.total ? format(_('$0–$1 of $2'), this.filter.offset + 1, last, r.total) : _('No records.')}</span>
            <span class="spacer"></span>
            <button
              class="link"
              ?disabled=${this.filter.offset === 0}
              @click=${() => (this.filter = { ...this.filter, offset: Math.max(0, this.filter.offset - PAGE) })}
            >
              ${_('Newer')}
            </button>
            <button
              class="link"
              ?disabled=${last >= r.total}
              @click=${() => (this.filter = { ...this.filter, offset: this.filter.offset + PAGE })}
            >
              ${_('Older')}
            </button>
          </div>`;
      })}`;
  }

  private renderVerify(v: AuditVerify) {
    return html`<div class="card" role="status" data-verify=${v.ok ? 'ok' : 'bad'}>
      ${
        v.ok
          ? html`<span class="badge ok">${_('Intact')}</span> ${format(_('$0 records checked; the chain is unbroken.'), v.checked)}`
          : html`<span class="badge bad">${_('Tampered')}</span>
            ${format(_('Record $0: $1 ($2 records checked before it).'), v.firstBad, v.reason, v.checked)}`
      }
    </div>`;
  }
}
