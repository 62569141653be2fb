/**
 * Identities → Active Directory (docs/active-directory.md): the membership's health as the
 * standing check answers it (shares.directory.ad.status), the join — realm, workgroup, admin user
 * and password — with its dry run shown first (every command in order, the smb.conf diff), run as
 * a job with its progress bar and, when it fails, the step that failed in words with every step's
 * report; and the leave (a job too), asked first. The password is read from its field when sent
 * and the field cleared at once: never in the page's state, the URL or a log (the agent redacts it
 * from the audit log and the job record).
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/confirm-dialog.js';
import type { ConfirmDialog } from '../components/confirm-dialog.js';
import '../components/error-alert.js';
import { unavailableBanner } from '../components/page-state.js';
import { jobProgress } from '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  type AdStatus,
  EMPTY_JOIN,
  failedStep,
  JOIN_METHOD,
  type JoinDraft,
  joinParams,
  LEAVE_METHOD,
  planJoin,
  startJoin,
  startLeave,
} from '../data/directory-ad.js';
import { planCommands } from '../data/iscsi.js';
import { isFinal, type JobSummary, SeenJobs, watchJobs } from '../data/jobs.js';
import type { DryRunPlan } from '../generated/api.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, formRow } from '../styles.js';

@customElement('cal-identities-ad')
export class IdentitiesAd extends LitElement {
  static override styles = [
    base,
    formRow,
    css`
      form.row .field {
        margin-bottom: 0.5rem;
      }
      .problem {
        color: var(--cal-danger);
        border-left: 3px solid var(--cal-danger);
        padding-left: 0.5rem;
      }
      ol.steps li[data-ok='false'] {
        color: var(--cal-danger);
        font-weight: 600;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private draft: JoinDraft = { ...EMPTY_JOIN };
  @state() private problem: string | undefined;
  @state() private error: unknown;
  @state() private plan: DryRunPlan | undefined;
  @state() private run: JobSummary | undefined;
  @state() private busy = false;
  @query('cal-confirm') private confirm!: ConfirmDialog;
  private seen = new SeenJobs();
  private off: (() => void) | undefined;

  private status = new Task(this, {
    task: ([c], { signal }) =>
      (c as AgentClient).call<AdStatus>('shares.directory.ad.status', {}, { signal }),
    args: () => [this.client] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = watchJobs(this.client, this.seen, (j) => {
      if (j.id !== this.run?.id) return;
      this.run = j;
      if (isFinal(j.state)) {
        this.busy = false;
        void this.status.run();
      }
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
  }

  private field(id: string): HTMLInputElement {
    return this.shadowRoot!.getElementById(id) as HTMLInputElement;
  }

  private set(k: keyof JoinDraft) {
    return (e: Event) => {
      this.draft = { ...this.draft, [k]: (e.target as HTMLInputElement).value };
      this.plan = undefined;
    };
  }

  /** The password field's value, the field cleared at once. */
  private takePassword(id: string): string {
    const f = this.field(id);
    const pw = f.value;
    f.value = '';
    return pw;
  }

  private async preview() {
    this.error = undefined;
    // the dry run needs no password: the real one is asked for when joining
    const p = joinParams(this.draft, 'dry-run');
    this.problem = typeof p === 'string' ? p : undefined;
    if (typeof p === 'string') return;
    try {
      this.plan = await planJoin(this.client, p);
    } catch (e) {
      this.error = e;
    }
  }

  private async join(e: Event) {
    e.preventDefault();
    this.error = undefined;
    const p = joinParams(this.draft, this.takePassword('ad-password'));
    this.problem = typeof p === 'string' ? p : undefined;
    if (typeof p === 'string') return;
    this.plan = undefined;
    await this.start(JOIN_METHOD, () => startJoin(this.client, p));
  }

  private async leave(e: Event) {
    e.preventDefault();
    const user = this.field('ad-leave-user').value.trim();
    const password = this.takePassword('ad-leave-password');
    const ok = await this.confirm.ask({
      title: _('Leave the domain?'),
      body: _(
        'The DC forgets this machine, smb.conf becomes a standalone server again and domain users no longer reach the shares.',
      ),
      action: _('Leave'),
      danger: true,
    });
    if (!ok) return;
    await this.start(LEAVE_METHOD, () =>
      startLeave(this.client, password ? { user, password } : { user, force: true }),
    );
  }

  private async start(method: string, call: () => Promise<{ job: string }>) {
    this.busy = true;
    try {
      const { job } = await call();
      this.run = this.seen.started(job, method);
      if (isFinal(this.run.state)) {
        this.busy = false;
        void this.status.run();
      }
    } catch (err) {
      this.busy = false;
      this.error = err;
    }
  }

  override render() {
    return html`<section class="card" aria-labelledby="id-ad">
      <h3 id="id-ad">${_('Active Directory')}</h3>
      <cal-error .error=${this.error}></cal-error>
      ${this.problem ? html`<p class="problem" role="alert" data-problem>${_(this.problem)}</p>` : nothing}
      ${renderTask(this.status, (s) => this.renderStatus(s))} ${this.renderRun()}
      <cal-confirm></cal-confirm>
    </section>`;
  }

  private renderStatus(s: AdStatus) {
    if (!s.configured)
      return html`<p data-ad-status="none" class="muted">
          ${_('Not a member of a domain: shares know local (and LDAP) users only.')}
        </p>
        ${s.tools.available ? nothing : unavailableBanner(_('Joining a domain'), s.tools.reason)}
        ${this.renderJoin(s.tools.available ? undefined : s.tools.reason)}`;
    return html`<p data-ad-status=${s.joined ? 'joined' : 'broken'}>
        ${format(_('Member of $0 ($1)'), s.realm ?? '', s.workgroup ?? '')}:
        ${
          s.joined
            ? html`<span class="badge ok">${_('join holds')}</span>`
            : html`<span class="badge bad">${_('join broken')}</span>`
        }
        <span class="muted" data-ad-detail>${s.detail}</span>
      </p>
      ${this.renderLeave()}`;
  }

  /** `unavailable`: why a join cannot run here (the buttons are disabled with it as their title) */
  private renderJoin(unavailable?: string) {
    const d = this.draft;
    const off = this.busy || unavailable !== undefined;
    const why = unavailable ?? nothing;
    return html`<form class="row" data-form="ad-join" @submit=${(e: Event) => this.join(e)}>
        <div class="field">
          <label for="ad-realm">${_('Realm')}</label>
          <input id="ad-realm" autocomplete="off" placeholder="EXAMPLE.COM" .value=${d.realm} @input=${this.set('realm')} />
        </div>
        <div class="field">
          <label for="ad-workgroup">${_('Workgroup')}</label>
          <input id="ad-workgroup" autocomplete="off" placeholder="EXAMPLE" .value=${d.workgroup} @input=${this.set('workgroup')} />
        </div>
        <div class="field">
          <label for="ad-netbios">${_('This machine’s name')}</label>
          <input id="ad-netbios" autocomplete="off" placeholder=${_('host name')} .value=${d.netbiosName} @input=${this.set('netbiosName')} />
        </div>
        <div class="field">
          <label for="ad-dns">${_('DNS server')}</label>
          <input id="ad-dns" autocomplete="off" placeholder=${_('system resolver')} .value=${d.dnsServer} @input=${this.set('dnsServer')} />
        </div>
        <div class="field">
          <label for="ad-user">${_('Admin user')}</label>
          <input id="ad-user" autocomplete="off" .value=${d.user} @input=${this.set('user')} />
        </div>
        <div class="field">
          <label for="ad-password">${_('Password')}</label>
          <input id="ad-password" type="password" autocomplete="off" />
        </div>
        <button type="button" data-action="ad-preview" ?disabled=${off} title=${why} @click=${() => this.preview()}>
          ${_('Preview')}
        </button>
        <button class="primary" type="submit" data-action="ad-join" ?disabled=${off} title=${why}>${_('Join')}</button>
      </form>
      ${this.plan ? this.renderPlan(this.plan) : nothing}`;
  }

  private renderPlan(p: DryRunPlan) {
    return html`<section aria-label=${_('Plan')} data-plan>
      <h4>${_('Plan')}</h4>
      <p class="muted">${_('Nothing has changed yet. Join runs these commands, in this order:')}</p>
      <pre aria-label=${_('Commands')}>${planCommands(p).join('\n')}</pre>
      ${(p.files ?? []).map((f) => html`<details><summary>${f.path}</summary><pre>${f.diff}</pre></details>`)}
      ${p.notes?.length ? html`<ul class="muted">${p.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}
    </section>`;
  }

  private renderLeave() {
    return html`<form class="row" data-form="ad-leave" @submit=${(e: Event) => this.leave(e)}>
      <div class="field">
        <label for="ad-leave-user">${_('Admin user')}</label>
        <input id="ad-leave-user" autocomplete="off" value="Administrator" />
      </div>
      <div class="field">
        <label for="ad-leave-password">${_('Password (empty: leave without telling the DC)')}</label>
        <input id="ad-leave-password" type="password" autocomplete="off" />
      </div>
      <button class="danger" type="submit" data-action="ad-leave" ?disabled=${this.busy}>${_('Leave the domain')}</button>
    </form>`;
  }

  private renderRun() {
    const j = this.run;
    if (!j) return nothing;
    const what = j.method === LEAVE_METHOD ? _('Leaving the domain') : _('Joining the domain');
    const failed = j.state === 'failed' || j.state === 'aborted';
    const f = failedStep(j);
    return html`<div data-ad-job=${j.state}>
      ${jobProgress(j, 'ad-job', what)}
      ${
        failed
          ? html`<p class="problem" role="alert" data-failed-step=${f.step ?? ''}>
              ${f.step ? format(_('Failed at step “$0”:'), f.step) : _('Failed:')}
              ${j.error?.message.replace(`${f.step}: `, '') ?? ''}
            </p>`
          : nothing
      }
      ${
        f.steps.length
          ? html`<ol class="steps" data-steps>
              ${f.steps.map((s) => html`<li data-ok=${String(s.ok)}>${s.name}: ${s.detail}</li>`)}
            </ol>`
          : nothing
      }
    </div>`;
  }
}
