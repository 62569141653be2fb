/**
 * iSCSI block storage: which backend serves (SCST or tgt) and, when neither can, why; drift
 * between the configuration and what the target runs, as a banner listing every difference with
 * Re-apply one click away (and Adopt running, after its plan); the targets with their LUNs,
 * groups and CHAP users (cal-iscsi-target); connected sessions; a new target planned (dry run)
 * before it is created, and a zvol-backed LUN created in one dialog (cal-iscsi-lun-dialog).
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { tableHead } from '../components/list-table.js';
import { runChange } from '../components/page-state.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  type Applied,
  adopt,
  type ChapInput,
  createTarget,
  drift,
  driftByTarget,
  iscsiStatus,
  listSessions,
  listTargets,
  type Plan,
  planCommands,
  reapply,
  sessionsByTarget,
} from '../data/iscsi.js';
import { listPools } from '../data/pools.js';
import { _, format, ngettext } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, formRow, preBlock } from '../styles.js';
import './iscsi-lun-dialog.js';
import type { IscsiLunDialog } from './iscsi-lun-dialog.js';
import './iscsi-target.js';

const val = (root: ShadowRoot | null, id: string) =>
  ((root?.getElementById(id) as HTMLInputElement | null)?.value ?? '').trim();

type NewTarget = Parameters<typeof createTarget.params>[0];

@customElement('cal-iscsi')
export class IscsiPage extends LitElement {
  static override styles = [
    base,
    formRow,
    preBlock,
    css`
      .row .field {
        margin-bottom: 0.5rem;
      }
      .drift {
        border-top: 2px solid var(--cal-warning);
        background: var(--cal-warning-bg);
      }
      .drift h3 {
        color: var(--cal-warning-fg);
      }
      ul.backends {
        margin: 0.25rem 0;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() error: unknown;
  @state() busy = false;
  @state() private newOpen = false;
  @state() private newPlan: Plan | undefined;
  @state() private adoptPlan: (Plan & { skipped?: string[] }) | undefined;
  /** what the last re-apply or adopt did, in one line */
  @state() private done: string | undefined;
  @query('cal-iscsi-lun-dialog') private lunDialog!: IscsiLunDialog;

  private status = new Task(this, {
    task: ([c], { signal }) => iscsiStatus(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private targets = new Task(this, {
    task: ([c], { signal }) => listTargets(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  /** drift and sessions need a running backend; without one there is nothing to compare */
  private live = new Task(this, {
    task: async ([c, available], { signal }) =>
      available
        ? {
            drift: await drift(c as AgentClient, { signal }),
            sessions: await listSessions(c as AgentClient, { signal }),
          }
        : undefined,
    args: () => [this.client, this.status.value?.available] as const,
  });

  private reload() {
    void this.status.run();
    void this.targets.run();
    void this.live.run();
  }

  /** Run a change; show its error; reload everything it may have changed. */
  private act(fn: () => Promise<unknown>): Promise<boolean> {
    return runChange(this, fn, () => this.reload());
  }

  private summary(verb: string, r: Applied) {
    const n = r.commands.length;
    this.done = `${verb}: ${format(ngettext('$0 command ran', '$0 commands ran', n), n)}${
      r.changed.length ? `, ${r.changed.join(', ')} ${_('written')}` : ''
    }`;
  }

  private async openLunDialog(iqn: string) {
    let pools: string[] = [];
    try {
      pools = (await listPools(this.client)).map((p) => p.name);
    } catch {
      /* no ZFS here: the name is typed in full */
    }
    this.lunDialog.open(iqn, pools);
  }

  override render() {
    return html`<div class="toolbar">
        <h2>${_('iSCSI')}</h2>
        <span class="spacer"></span>
        <button @click=${() => {
          this.newOpen = !this.newOpen;
          this.newPlan = undefined;
        }}>${_('New target…')}</button>
      </div>
      <cal-error .error=${this.error}></cal-error>
      ${this.renderStatus()} ${this.renderDrift()} ${this.newOpen ? this.renderNewTarget() : nothing}
      ${renderTask(this.targets, (list) => {
        const byTarget = sessionsByTarget(this.live.value?.sessions ?? []);
        return list.length
          ? html`${list.map(
              (t) =>
                html`<cal-iscsi-target
                  .target=${t}
                  .sessions=${byTarget.get(t.iqn) ?? []}
                  @changed=${() => this.reload()}
                  @add-lun=${(e: CustomEvent<string>) => this.openLunDialog(e.detail)}
                ></cal-iscsi-target>`,
            )}`
          : html`<section class="card"><p class="empty muted">${_('No iSCSI targets yet.')}</p></section>`;
      })}
      ${this.renderSessions()}
      <cal-iscsi-lun-dialog @created=${() => this.reload()}></cal-iscsi-lun-dialog>`;
  }

  private renderStatus() {
    return html`<section class="card" aria-labelledby="is-status">
      <h3 id="is-status">${_('Target service')}</h3>
      ${renderTask(
        this.status,
        (s) => html`<p data-available=${s.available}>
            <span class=${s.available ? 'badge ok' : 'badge bad'}>${s.available ? _('serving') : _('not available')}</span>
            ${s.backend ?? ''} · ${format(_('$0 target(s), $1 LUN(s) configured'), s.targets, s.luns)}
          </p>
          ${
            s.available
              ? html`<p class="muted" data-reason>${s.reason}</p>`
              : html`<ul class="backends" data-reason>
                  ${s.backends.map((b) => html`<li data-backend=${b.name}><strong>${b.name}</strong>: ${b.reason ?? (b.available ? _('available') : _('not available'))}</li>`)}
                </ul>
                <p class="muted">${_('Targets can be configured and their plans shown; changes are applied once a backend runs.')}</p>`
          }`,
      )}
    </section>`;
  }

  private renderDrift() {
    const d = this.live.value?.drift;
    if (this.done)
      return html`<section class="card" role="status" data-done>
        ${this.done} <button class="link" @click=${() => (this.done = undefined)}>${_('Dismiss')}</button>
      </section>`;
    if (!d || d.inSync) return nothing;
    return html`<section class="card drift" role="alert" aria-labelledby="is-drift" data-drift>
      <h3 id="is-drift">
        ${format(_('$0 runs something else than configured ($1 difference(s))'), d.backend, d.items.length)}
      </h3>
      <ul>
        ${driftByTarget(d.items).map(
          (g) => html`<li data-drift-target=${g.target}>
            <span class="mono">${g.target}</span>
            <ul>${g.lines.map((l) => html`<li>${l}</li>`)}</ul>
          </li>`,
        )}
      </ul>
      <div class="row">
        <button
          class="primary"
          ?disabled=${this.busy}
          @click=${() => this.act(async () => this.summary(_('Re-applied'), await reapply.run(this.client)))}
        >
          ${_('Re-apply')}
        </button>
        <button
          ?disabled=${this.busy}
          @click=${() =>
            this.act(async () => {
              this.adoptPlan = await adopt.plan(this.client);
            })}
        >
          ${_('Adopt running…')}
        </button>
      </div>
      ${
        this.adoptPlan
          ? html`<section aria-label=${_('Adopt plan')} data-plan="adopt">
              <p>${_('The configuration becomes what runs now. Nothing has changed yet; adopting runs:')}</p>
              <pre aria-label=${_('Commands')}>${planCommands(this.adoptPlan).join('\n')}</pre>
              ${
                this.adoptPlan.skipped?.length
                  ? html`<p>${_('Not taken over:')}</p>
                    <ul>${this.adoptPlan.skipped.map((x) => html`<li>${x}</li>`)}</ul>`
                  : nothing
              }
              <div class="row">
                <button
                  class="primary"
                  ?disabled=${this.busy}
                  @click=${() =>
                    this.act(async () => {
                      const r = await adopt.run(this.client);
                      this.adoptPlan = undefined;
                      this.summary(_('Adopted'), r);
                    })}
                >
                  ${_('Adopt')}
                </button>
                <button class="link" @click=${() => (this.adoptPlan = undefined)}>${_('Cancel')}</button>
              </div>
            </section>`
          : nothing
      }
    </section>`;
  }

  private draftTarget(): NewTarget {
    const r = this.shadowRoot;
    const address = val(r, 'nt-address');
    const user = val(r, 'nt-chap-user');
    const chap: ChapInput | undefined = user ? { user, secret: val(r, 'nt-chap-secret') } : undefined;
    return {
      iqn: val(r, 'nt-iqn'),
      ...(val(r, 'nt-alias') ? { alias: val(r, 'nt-alias') } : {}),
      ...(address ? { portals: [{ address, port: Number(val(r, 'nt-port') || 3260) }] } : {}),
      ...(chap ? { chap } : {}),
    };
  }

  private renderNewTarget() {
    const dropPlan = () => (this.newPlan = undefined);
    return html`<section class="card" aria-labelledby="is-new">
      <h3 id="is-new">${_('New target')}</h3>
      <form class="row" @submit=${(e: Event) => e.preventDefault()} @input=${dropPlan}>
        <div class="field"><label for="nt-iqn">${_('IQN')}</label><input id="nt-iqn" size="40" placeholder="iqn.2026-12.org.example:vm-store" /></div>
        <div class="field"><label for="nt-alias">${_('Alias')}</label><input id="nt-alias" placeholder="vmstore" /></div>
        <div class="field"><label for="nt-address">${_('Portal address')}</label><input id="nt-address" placeholder=${_('default')} /></div>
        <div class="field"><label for="nt-port">${_('Port')}</label><input id="nt-port" type="number" min="1" max="65535" placeholder="3260" /></div>
        <div class="field"><label for="nt-chap-user">${_('CHAP user (optional)')}</label><input id="nt-chap-user" autocomplete="off" /></div>
        <div class="field"><label for="nt-chap-secret">${_('CHAP secret')}</label><input id="nt-chap-secret" type="password" autocomplete="new-password" /></div>
      </form>
      <div class="row">
        <button
          ?disabled=${this.busy}
          @click=${() =>
            this.act(async () => {
              this.newPlan = await createTarget.plan(this.client, this.draftTarget());
            })}
        >
          ${_('Show plan')}
        </button>
        <button
          class="primary"
          ?disabled=${this.busy || !this.newPlan}
          @click=${() =>
            this.act(async () => {
              await createTarget.run(this.client, this.draftTarget());
              this.newPlan = undefined;
              this.newOpen = false;
            })}
        >
          ${_('Create')}
        </button>
      </div>
      ${
        this.newPlan
          ? html`<section aria-label=${_('Plan')} data-plan="target">
              <pre aria-label=${_('Commands')}>${planCommands(this.newPlan).join('\n')}</pre>
              ${(this.newPlan.files ?? []).map((f) => html`<details><summary>${f.path}</summary><pre>${f.diff}</pre></details>`)}
              ${this.newPlan.notes?.length ? html`<ul class="muted">${this.newPlan.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}
            </section>`
          : nothing
      }
    </section>`;
  }

  private renderSessions() {
    if (!this.status.value?.available) return nothing;
    return html`<section class="card" aria-labelledby="is-sessions">
      <h3 id="is-sessions">${_('Sessions')}</h3>
      ${renderTask(this.live, (v) =>
        !v?.sessions.length
          ? html`<p class="empty muted">${_('No initiator is connected.')}</p>`
          : html`<table data-list="sessions">
              ${tableHead([_('Target'), _('Initiator'), _('Address'), _('LUNs')])}
              <tbody>
                ${v.sessions.map(
                  (s) => html`<tr data-session=${s.initiator}>
                    <td class="mono">${s.target}</td>
                    <td class="mono">${s.initiator}</td>
                    <td>${s.address ?? '—'}</td>
                    <td>${s.luns ? s.luns.join(', ') || _('none') : '—'}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`,
      )}
    </section>`;
  }
}
