/**
 * Identities: the local share users (their groups and whether Samba has their password) and
 * groups (their members). A user is created with an SMB password typed twice, read from the
 * fields when sent and cleared at once — never kept in the page's state, never shown back (the
 * agent never returns it either); the password can be changed; delete asks first. Groups are
 * created and deleted here; a user joins groups when created, and its groups (besides its own)
 * are changed from its row ("Groups": a checkbox per local group, shares.user.groups). Below them,
 * the Active Directory membership (identities-ad.ts).
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/confirm-dialog.js';
import type { ConfirmDialog } from '../components/confirm-dialog.js';
import '../components/error-alert.js';
import './identities-ad.js';
import { tableHead } from '../components/list-table.js';
import { emptyState, runChange, unavailableBanner, unavailableReason } from '../components/page-state.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  createGroup,
  createUser,
  deleteGroup,
  deleteUser,
  joinableGroups,
  listGroups,
  listUsers,
  passwordProblem,
  setPassword,
  setUserGroups,
  sharesStatus,
} from '../data/shares.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, formRow } from '../styles.js';

@customElement('cal-identities')
export class IdentitiesPage extends LitElement {
  static override styles = [
    base,
    formRow,
    css`
      form.row .field {
        margin-bottom: 0.5rem;
      }
      .checks {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1rem;
      }
      .checks label {
        font-weight: 400;
      }
      td .link + .link {
        margin-left: 0.5rem;
      }
      .problem {
        color: var(--cal-danger);
        border-left: 3px solid var(--cal-danger);
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() error: unknown;
  @state() private problem: string | undefined;
  @state() busy = false;
  @state() private done: string | undefined;
  /** the user whose password form is open */
  @state() private passwordFor: string | undefined;
  /** the user whose groups form is open */
  @state() private groupsFor: string | undefined;
  @query('cal-confirm') private confirm!: ConfirmDialog;

  private users = new Task(this, {
    task: ([c], { signal }) => listUsers(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private groups = new Task(this, {
    task: ([c], { signal }) => listGroups(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  /** whether Samba is here (shares.status): a share user needs its SMB password set by pdbedit */
  private status = new Task(this, {
    task: ([c], { signal }) => sharesStatus(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  private reload() {
    void this.users.run();
    void this.groups.run();
  }

  private act(fn: () => Promise<unknown>): Promise<boolean> {
    return runChange(this, fn, () => this.reload());
  }

  private input(id: string): HTMLInputElement {
    return this.shadowRoot!.getElementById(id) as HTMLInputElement;
  }

  /** The two password fields' value (or the problem, said on the page); both fields are cleared. */
  private takePassword(a: string, b: string): string | undefined {
    const pw = this.input(a).value;
    const again = this.input(b).value;
    this.input(a).value = '';
    this.input(b).value = '';
    this.problem = passwordProblem(pw, again);
    if (this.problem) this.done = undefined;
    return this.problem ? undefined : pw;
  }

  private async addUser(e: Event) {
    e.preventDefault();
    const name = this.input('id-user-name').value.trim();
    const groups = [
      ...this.shadowRoot!.querySelectorAll<HTMLInputElement>('[data-user-groups] input:checked'),
    ].map((x) => x.value);
    const pw = this.takePassword('id-user-pw', 'id-user-pw2');
    if (pw === undefined) return;
    await this.act(async () => {
      await createUser.run(this.client, name, pw, groups);
      this.input('id-user-name').value = '';
      for (const x of this.shadowRoot!.querySelectorAll<HTMLInputElement>('[data-user-groups] input'))
        x.checked = false;
      this.done = format(_('User $0 created'), name);
    });
  }

  private async changePassword(e: Event, name: string) {
    e.preventDefault();
    const pw = this.takePassword('id-pw', 'id-pw2');
    if (pw === undefined) return;
    await this.act(async () => {
      await setPassword.run(this.client, name, pw);
      this.passwordFor = undefined;
      this.done = format(_('Password of $0 changed'), name);
    });
  }

  private async saveGroups(e: Event, name: string) {
    e.preventDefault();
    const groups = [
      ...this.shadowRoot!.querySelectorAll<HTMLInputElement>('[data-form="groups"] input:checked'),
    ].map((x) => x.value);
    await this.act(async () => {
      await setUserGroups.run(this.client, name, groups);
      this.groupsFor = undefined;
      this.done = format(_('Groups of $0: $1'), name, groups.join(', ') || _('its own only'));
    });
  }

  private renderGroupsForm(u: { name: string; groups: string[] }) {
    const names = joinableGroups(u.name, this.groups.value ?? []);
    return html`<tr>
      <td colspan="5">
        <form class="row" data-form="groups" @submit=${(e: Event) => this.saveGroups(e, u.name)}>
          <div class="field">
            <span>${format(_('Groups of $0 (besides its own)'), u.name)}</span>
            <div class="checks">
              ${
                names.length
                  ? names.map(
                      (g) =>
                        html`<label><input type="checkbox" value=${g} .checked=${u.groups.includes(g)} /> ${g}</label>`,
                    )
                  : html`<span class="muted">${_('no other group yet')}</span>`
              }
            </div>
          </div>
          <button class="primary" type="submit" data-action="save-groups" ?disabled=${this.busy}>${_('Save groups')}</button>
          <button class="link" type="button" @click=${() => (this.groupsFor = undefined)}>${_('Cancel')}</button>
        </form>
      </td>
    </tr>`;
  }

  private async removeItem(kind: 'user' | 'group', name: string) {
    const ok = await this.confirm.ask({
      title: format(kind === 'user' ? _('Delete user $0?') : _('Delete group $0?'), name),
      body:
        kind === 'user'
          ? _('Its SMB password, its account and its own group go; files it owns stay.')
          : _('The group goes; its members stay. A share that names it refuses the delete.'),
      action: kind === 'user' ? _('Delete user') : _('Delete group'),
      danger: true,
    });
    if (!ok) return;
    await this.act(async () => {
      await (kind === 'user' ? deleteUser : deleteGroup).run(this.client, name);
      this.done = format(_('$0 deleted'), name);
    });
  }

  override render() {
    return html`<div class="toolbar"><h2>${_('Identities')}</h2></div>
      <p class="muted">${_('Local users and groups for file shares: no home, no login shell.')}</p>
      <cal-error .error=${this.error}></cal-error>
      ${this.problem ? html`<p class="card problem" role="alert" data-problem>${_(this.problem)}</p>` : nothing}
      ${
        this.done
          ? html`<section class="card" role="status" data-done>
              ${this.done} <button class="link" @click=${() => (this.done = undefined)}>${_('Dismiss')}</button>
            </section>`
          : nothing
      }
      <div data-for="users">${unavailableBanner(_('Creating share users'), this.unavailable(), _('Install Samba, then reload this page.'))}</div>
      ${this.renderUsers()} ${this.renderGroups()}
      <cal-identities-ad></cal-identities-ad>
      <cal-confirm></cal-confirm>`;
  }

  /**
   * Why share users cannot be made here: no Samba (their SMB password goes to pdbedit), or the
   * accounts cannot be read. Said once; the user form's button is disabled with it as its title.
   */
  private unavailable(): string | undefined {
    const s = this.status.value;
    if (s && !s.samba) return s.reason ?? _('Samba is not installed');
    return unavailableReason(this.users.error, this.groups.error);
  }

  private renderUsers() {
    const groups = this.groups.value ?? [];
    const off = this.unavailable();
    return html`<section class="card" aria-labelledby="id-users">
      <h3 id="id-users">${_('Users')}</h3>
      ${renderTask(
        this.users,
        (list) =>
          list.length
            ? html`<table data-list="users">
              ${tableHead([_('Name'), _('UID'), _('Groups'), _('SMB password')], true)}
              <tbody>
                ${list.map(
                  (u) => html`<tr data-user=${u.name}>
                    <td>${u.name}</td>
                    <td>${u.uid}</td>
                    <td data-groups>${u.groups.join(', ')}</td>
                    <td>${u.smb ? _('set') : html`<span class="badge warn">${_('not set')}</span>`}</td>
                    <td>
                      <button class="link" data-action="groups" @click=${() => (this.groupsFor = u.name)}>
                        ${_('Groups')}
                      </button>
                      <button class="link" data-action="password" @click=${() => (this.passwordFor = u.name)}>
                        ${_('Change password')}
                      </button>
                      <button class="link" data-action="delete" ?disabled=${this.busy} @click=${() => this.removeItem('user', u.name)}>
                        ${_('Delete')}
                      </button>
                    </td>
                  </tr>
                  ${
                    this.passwordFor === u.name
                      ? html`<tr>
                          <td colspan="5">
                            <form class="row" data-form="password" @submit=${(e: Event) => this.changePassword(e, u.name)}>
                              <div class="field">
                                <label for="id-pw">${format(_('New SMB password for $0'), u.name)}</label>
                                <input id="id-pw" type="password" autocomplete="new-password" />
                              </div>
                              <div class="field">
                                <label for="id-pw2">${_('Again')}</label>
                                <input id="id-pw2" type="password" autocomplete="new-password" />
                              </div>
                              <button class="primary" type="submit" ?disabled=${this.busy}>${_('Set password')}</button>
                              <button class="link" type="button" @click=${() => (this.passwordFor = undefined)}>${_('Cancel')}</button>
                            </form>
                          </td>
                        </tr>`
                      : nothing
                  }
                  ${this.groupsFor === u.name ? this.renderGroupsForm(u) : nothing}`,
                )}
              </tbody>
            </table>`
            : emptyState(_('No share users yet: create one below.')),
        { quietUnavailable: true },
      )}
      <h4>${_('New user')}</h4>
      <form class="row" data-form="user" @submit=${(e: Event) => this.addUser(e)}>
        <div class="field"><label for="id-user-name">${_('Name')}</label><input id="id-user-name" autocomplete="off" placeholder="alice" /></div>
        <div class="field">
          <label for="id-user-pw">${_('SMB password')}</label>
          <input id="id-user-pw" type="password" autocomplete="new-password" />
        </div>
        <div class="field">
          <label for="id-user-pw2">${_('Again')}</label>
          <input id="id-user-pw2" type="password" autocomplete="new-password" />
        </div>
        <div class="field">
          <span>${_('Groups')}</span>
          <div class="checks" data-user-groups>
            ${
              groups.length
                ? groups.map((g) => html`<label><input type="checkbox" value=${g.name} /> ${g.name}</label>`)
                : html`<span class="muted">${_('none yet')}</span>`
            }
          </div>
        </div>
        <button
          class="primary"
          type="submit"
          data-action="create-user"
          ?disabled=${this.busy || off !== undefined}
          title=${off ?? nothing}
        >
          ${_('Create user')}
        </button>
      </form>
    </section>`;
  }

  private renderGroups() {
    const off = unavailableReason(this.users.error, this.groups.error);
    return html`<section class="card" aria-labelledby="id-groups">
      <h3 id="id-groups">${_('Groups')}</h3>
      ${renderTask(
        this.groups,
        (list) =>
          list.length
            ? html`<table data-list="groups">
              ${tableHead([_('Name'), _('GID'), _('Members')], true)}
              <tbody>
                ${list.map(
                  (g) => html`<tr data-group=${g.name}>
                    <td>${g.name}</td>
                    <td>${g.gid}</td>
                    <td data-members>${g.members.join(', ') || '—'}</td>
                    <td>
                      <button class="link" data-action="delete" ?disabled=${this.busy} @click=${() => this.removeItem('group', g.name)}>
                        ${_('Delete')}
                      </button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>`
            : emptyState(_('No share groups yet.')),
        { quietUnavailable: true },
      )}
      <form
        class="row"
        data-form="group"
        @submit=${(e: Event) => {
          e.preventDefault();
          const name = this.input('id-group-name').value.trim();
          void this.act(async () => {
            await createGroup.run(this.client, name);
            this.input('id-group-name').value = '';
            this.done = format(_('Group $0 created'), name);
          });
        }}
      >
        <div class="field"><label for="id-group-name">${_('New group')}</label><input id="id-group-name" autocomplete="off" placeholder="staff" /></div>
        <button
          type="submit"
          data-action="create-group"
          ?disabled=${this.busy || off !== undefined}
          title=${off ?? nothing}
        >
          ${_('Create group')}
        </button>
      </form>
    </section>`;
  }
}
