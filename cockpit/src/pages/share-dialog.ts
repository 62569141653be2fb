/**
 * The share dialog (new or edit): protocols, read-only, guest, browseable, valid users and groups
 * picked from the local share accounts, NFS client rows (host, read-only, squash). "Review"
 * asks the agent for the dry run (the commands and file diffs) and for the access matrix of the
 * share as it would be — who may read or write, and why — and Apply is enabled only while the
 * review on screen is the review of the fields as they are: any edit drops it.
 */
import { consume } from '@lit/context';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { clientContext } from '../context.js';
import { domainNameProblem, domainNames } from '../data/directory-ad.js';
import { planCommands } from '../data/iscsi.js';
import {
  type Applied,
  type Cell,
  createShare,
  draftOf,
  matrixRows,
  type NfsClientDraft,
  newShareDraft,
  proposedAccess,
  type Share,
  type ShareDraft,
  shareParams,
  shareProblems,
  updateShare,
} from '../data/shares.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, dialogBase } from '../styles.js';

interface Review {
  plan: Applied & { files?: { path: string; diff: string }[] };
  cells: Cell[];
}

@customElement('cal-share-dialog')
export class ShareDialog extends LitElement {
  static override styles = [
    base,
    dialogBase,
    css`
      :host {
        --cal-dialog-width: 56rem;
      }
      .checks {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1.25rem;
      }
      .checks label {
        font-weight: 400;
      }
      td.access-write {
        color: var(--cal-success, green);
        font-weight: 600;
      }
      td.access-none {
        color: var(--cal-fg-muted);
      }
      section[data-review] h3 {
        margin-top: 1rem;
      }
      .why {
        display: block;
        font-size: 0.75rem;
        color: var(--cal-fg-muted);
        font-weight: 400;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private draft: ShareDraft = newShareDraft();
  @state() private editing = false;
  @state() private users: string[] = [];
  @state() private groups: string[] = [];
  @state() private review: Review | undefined;
  @state() private error: unknown;
  @state() private busy = false;
  @state() private domainProblem: string | undefined;
  /** the joined domain's names (winbind), offered under the domain-name fields; none when not a member */
  @state() private domain: { users: string[]; groups: string[] } = { users: [], groups: [] };
  @query('dialog') private dialog!: HTMLDialogElement;

  /** Open for a new share (no `share`) or to edit one; users and groups are the pickers' choices. */
  open(users: string[], groups: string[], share?: Share) {
    this.users = users;
    this.groups = groups;
    this.editing = !!share;
    this.draft = share ? draftOf(share) : newShareDraft();
    this.review = undefined;
    this.error = undefined;
    void domainNames(this.client).then((d) => {
      this.domain = d;
    });
    void this.updateComplete.then(() => this.dialog.showModal());
  }

  close() {
    this.dialog?.close();
    this.review = undefined;
  }

  private set<K extends keyof ShareDraft>(k: K, v: ShareDraft[K]) {
    this.draft = { ...this.draft, [k]: v };
    this.review = undefined;
    this.error = undefined;
  }

  private toggle(k: 'validUsers' | 'validGroups', name: string, on: boolean) {
    const cur = this.draft[k].filter((x) => x !== name);
    this.set(k, on ? [...cur, name] : cur);
  }

  private setClient(i: number, c: Partial<NfsClientDraft>) {
    this.set(
      'nfsClients',
      this.draft.nfsClients.map((x, j) => (j === i ? { ...x, ...c } : x)),
    );
  }

  private async showReview() {
    this.error = undefined;
    this.busy = true;
    try {
      const params = shareParams(this.draft);
      const m = this.editing ? updateShare : createShare;
      const [plan, access] = await Promise.all([
        m.plan(this.client, params),
        proposedAccess(this.client, params),
      ]);
      this.review = { plan, cells: access.cells };
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private async apply() {
    this.error = undefined;
    this.busy = true;
    try {
      const params = shareParams(this.draft);
      const r = await (this.editing ? updateShare : createShare).run(this.client, params);
      this.close();
      this.dispatchEvent(
        new CustomEvent('applied', { detail: { name: params.name, ...r }, bubbles: true, composed: true }),
      );
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private renderMatrix(cells: Cell[]) {
    const rows = matrixRows(cells);
    const cols = [...new Set(rows.flatMap((r) => [...r.by.keys()]))];
    if (!rows.length) return html`<p class="muted">${_('No user, group or guest to show.')}</p>`;
    return html`<table data-matrix>
      <thead>
        <tr>
          <th scope="col">${_('Who')}</th>
          ${cols.map((c) => html`<th scope="col">${c.toUpperCase()}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr data-principal=${r.principal}>
            <th scope="row">${r.principal}</th>
            ${cols.map((c) => {
              const cell = r.by.get(c);
              return cell
                ? html`<td class=${`access-${cell.access}`} data-protocol=${c} data-access=${cell.access}>
                    ${_(cell.access)}<span class="why">${cell.why}</span>
                  </td>`
                : html`<td>—</td>`;
            })}
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private renderReview(r: Review) {
    return html`<section aria-label=${_('Review')} data-review>
      <h3>${_('Who may do what')}</h3>
      <p class="muted">${_('Computed from the options and the directory’s owner and mode; nothing has changed yet.')}</p>
      ${this.renderMatrix(r.cells)}
      <h3>${_('Plan')}</h3>
      ${
        r.plan.commands.length
          ? html`<p class="muted">${_('Apply runs these commands, in this order:')}</p>
            <pre aria-label=${_('Commands')}>${planCommands(r.plan).join('\n')}</pre>`
          : html`<p class="muted" data-no-commands>${_('Apply runs no command: nothing changes.')}</p>`
      }
      ${(r.plan.files ?? []).map((f) => html`<details><summary>${f.path}</summary><pre>${f.diff}</pre></details>`)}
      ${r.plan.notes?.length ? html`<ul class="muted">${r.plan.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}
    </section>`;
  }

  private renderClients() {
    const d = this.draft;
    return html`<span>${_('NFS clients')}</span>
      <div data-nfs-clients>
        ${d.nfsClients.map(
          (c, i) => html`<div class="checks" data-client=${i}>
            <input
              aria-label=${_('Client host')}
              .value=${c.host}
              placeholder="192.0.2.0/24"
              @input=${(e: Event) => this.setClient(i, { host: (e.target as HTMLInputElement).value })}
            />
            <label
              ><input
                type="checkbox"
                .checked=${c.readOnly}
                @change=${(e: Event) => this.setClient(i, { readOnly: (e.target as HTMLInputElement).checked })}
              />
              ${_('read-only')}</label
            >
            <label
              >${_('squash')}
              <select
                @change=${(e: Event) =>
                  this.setClient(i, {
                    squash: (e.target as HTMLSelectElement).value as NfsClientDraft['squash'],
                  })}
              >
                ${(['root', 'all', 'none'] as const).map((s) => html`<option ?selected=${s === c.squash}>${s}</option>`)}
              </select></label
            >
            <button
              class="link"
              @click=${() =>
                this.set(
                  'nfsClients',
                  d.nfsClients.filter((_x, j) => j !== i),
                )}
            >
              ${_('Remove')}
            </button>
          </div>`,
        )}
        <button
          class="link"
          data-action="add-client"
          @click=${() => this.set('nfsClients', [...d.nfsClients, { host: '', readOnly: false, squash: 'root' }])}
        >
          ${_('Add client')}
        </button>
      </div>`;
  }

  /** A typed domain name (`DOMAIN\\name`, after an Active Directory join) added to valid users or groups. */
  private addDomain(k: 'validUsers' | 'validGroups') {
    const input = this.shadowRoot!.getElementById(`sh-domain-${k}`) as HTMLInputElement;
    const name = input.value.trim();
    this.domainProblem = domainNameProblem(name);
    if (this.domainProblem) return;
    input.value = '';
    if (!this.draft[k].includes(name)) this.set(k, [...this.draft[k], name]);
  }

  private renderPicker(k: 'validUsers' | 'validGroups', local: string[], label: string, none: string) {
    // the domain names the share holds are listed too (ticked), beside the local accounts
    const names = [...local, ...this.draft[k].filter((n) => n.includes('\\') && !local.includes(n))];
    return html`<span>${label}</span>
      <div class="checks" data-picker=${k}>
        ${
          names.length
            ? names.map(
                (n) => html`<label
                  ><input
                    type="checkbox"
                    value=${n}
                    .checked=${this.draft[k].includes(n)}
                    @change=${(e: Event) => this.toggle(k, n, (e.target as HTMLInputElement).checked)}
                  />
                  ${n}</label
                >`,
              )
            : html`<span class="muted">${none}</span>`
        }
      </div>
      <span></span>
      <span class="checks">
        <input
          id=${`sh-domain-${k}`}
          autocomplete="off"
          list=${`sh-domain-list-${k}`}
          aria-label=${format(_('$0: a domain name'), label)}
          placeholder=${k === 'validUsers' ? 'DOMAIN\\user' : 'DOMAIN\\Domain Users'}
        />
        <datalist id=${`sh-domain-list-${k}`}>
          ${(k === 'validUsers' ? this.domain.users : this.domain.groups).map((n) => html`<option value=${n}></option>`)}
        </datalist>
        <button type="button" data-action=${`add-domain-${k}`} @click=${() => this.addDomain(k)}>
          ${_('Add domain name')}
        </button>
      </span>`;
  }

  /** An SMB read or write list as typed: names separated by commas (shareProblems checks each). */
  private renderList(k: 'readList' | 'writeList', label: string, placeholder: string, title: string) {
    return html`<label for=${`sh-${k}`}>${label}</label>
      <input
        id=${`sh-${k}`}
        autocomplete="off"
        .value=${this.draft[k]}
        placeholder=${placeholder}
        title=${title}
        @input=${(e: Event) => this.set(k, (e.target as HTMLInputElement).value)}
      />`;
  }

  override render() {
    const d = this.draft;
    const problems = shareProblems(d);
    const check = (k: 'smb' | 'nfs' | 'readOnly' | 'guest' | 'browseable', label: string) =>
      html`<label
        ><input
          id=${`sh-${k}`}
          type="checkbox"
          .checked=${d[k]}
          @change=${(e: Event) => this.set(k, (e.target as HTMLInputElement).checked)}
        />
        ${label}</label
      >`;
    return html`<dialog aria-labelledby="sh-title" @close=${() => (this.review = undefined)}>
      <h2 id="sh-title">${this.editing ? format(_('Edit share $0'), d.name) : _('New share')}</h2>
      <form @submit=${(e: Event) => e.preventDefault()}>
        <label for="sh-name">${_('Name')}</label>
        <input
          id="sh-name"
          .value=${d.name}
          ?disabled=${this.editing}
          placeholder="team"
          @input=${(e: Event) => this.set('name', (e.target as HTMLInputElement).value.trim())}
        />
        <label for="sh-description">${_('Description')}</label>
        <input
          id="sh-description"
          .value=${d.description}
          @input=${(e: Event) => this.set('description', (e.target as HTMLInputElement).value)}
        />
        <label for="sh-quota">${_('Quota')}</label>
        <input
          id="sh-quota"
          .value=${d.quota}
          placeholder=${_('none (e.g. 100G)')}
          title=${_('The most the share holds (its dataset’s refquota; snapshots not counted). Needs a pool for shares.')}
          @input=${(e: Event) => this.set('quota', (e.target as HTMLInputElement).value)}
        />
        <span>${_('Protocols')}</span>
        <span class="checks">${check('smb', 'SMB')} ${check('nfs', 'NFS')}</span>
        <span>${_('Options')}</span>
        <span class="checks"
          >${check('readOnly', _('Read-only'))} ${check('guest', _('Guests (SMB, no password)'))}
          ${check('browseable', _('Listed to SMB clients'))}</span
        >
        ${this.renderPicker('validUsers', this.users, _('Valid users (SMB)'), _('no share users yet'))}
        ${this.renderPicker('validGroups', this.groups, _('Valid groups (SMB)'), _('no share groups yet'))}
        ${this.renderList(
          'readList',
          _('Only read (SMB read list)'),
          'alice, @staff',
          _('These users (@group: its members) only read, even on a writable share. Commas between names.'),
        )}
        ${this.renderList(
          'writeList',
          _('Write even if read-only (SMB write list)'),
          '@admins',
          _(
            'These users (@group: its members) write, even on a read-only share; this list wins over the read list.',
          ),
        )}
        ${d.nfs ? this.renderClients() : nothing}
      </form>
      ${
        d.smb && !d.validUsers.length && !d.validGroups.length
          ? html`<p class="muted">${_('No valid users or groups: every share user may connect.')}</p>`
          : nothing
      }
      ${this.domainProblem ? html`<p class="problems" role="alert" data-domain-problem>${this.domainProblem}</p>` : nothing}
      ${
        problems.length && d.name
          ? html`<ul class="problems" data-problems>${problems.map((p) => html`<li>${_(p)}</li>`)}</ul>`
          : nothing
      }
      <cal-error .error=${this.error}></cal-error>
      ${this.review ? this.renderReview(this.review) : nothing}
      <div class="actions">
        <button ?disabled=${this.busy || problems.length > 0} @click=${() => this.showReview()}>
          ${_('Review access')}
        </button>
        <button class="primary" data-action="apply" ?disabled=${this.busy || !this.review} @click=${() => this.apply()}>
          ${_('Apply')}
        </button>
        <button class="link" @click=${() => this.close()}>${_('Cancel')}</button>
      </div>
    </dialog>`;
  }
}
