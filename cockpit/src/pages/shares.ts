/**
 * File shares: whether Samba and the NFS server are here (and, when not, why and what to install,
 * said once at the top), drift between the desired smb.conf/exports and the files on disk with
 * Apply one click away, the shares (protocols, directory, dataset, read-only, NFS clients, SMB
 * clients connected and files open), the SMB sessions now, and the share dialog
 * (cal-share-dialog: the access matrix and the plan before Apply). Delete asks first.
 */
import { consume } from '@lit/context';
import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/confirm-dialog.js';
import type { ConfirmDialog } from '../components/confirm-dialog.js';
import '../components/error-alert.js';
import { tableHead } from '../components/list-table.js';
import { emptyState, runChange, unavailableBanner, unavailableReason } from '../components/page-state.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import {
  deleteShare,
  listGroups,
  listShares,
  listUsers,
  reapplyShares,
  type Share,
  type SharesStatus,
  sharesDrift,
  sharesSessions,
  sharesStatus,
  usageOf,
} from '../data/shares.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';
import './share-dialog.js';
import type { ShareDialog } from './share-dialog.js';

@customElement('cal-shares')
export class SharesPage extends LitElement {
  static override styles = [
    base,
    css`
      .drift {
        border-top: 2px solid var(--cal-warning);
        background: var(--cal-warning-bg);
      }
      .drift h3 {
        color: var(--cal-warning-fg);
      }
      td .link + .link {
        margin-left: 0.5rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() error: unknown;
  @state() busy = false;
  @state() private done: string | undefined;
  @query('cal-share-dialog') private dialog!: ShareDialog;
  @query('cal-confirm') private confirm!: ConfirmDialog;

  private status = new Task(this, {
    task: ([c], { signal }) => sharesStatus(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private shares = new Task(this, {
    task: ([c], { signal }) => listShares(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  /** drift is compared (and alerted by the agent) only where Samba or the NFS server can apply */
  private drift = new Task(this, {
    task: ([c, can], { signal }) => (can ? sharesDrift(c as AgentClient, { signal }) : undefined),
    args: () => [this.client, !!(this.status.value?.samba || this.status.value?.nfs)] as const,
  });
  /** SMB sessions need Samba; without it there are none to list */
  private sessions = new Task(this, {
    task: ([c, samba], { signal }) => (samba ? sharesSessions(c as AgentClient, { signal }) : undefined),
    args: () => [this.client, this.status.value?.samba] as const,
  });
  private timer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // sessions come and go without an event: look again every 5 s while the page is open
    this.timer = setInterval(() => {
      if (this.status.value?.samba) void this.sessions.run();
    }, 5000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  private reload() {
    void this.status.run();
    void this.shares.run();
    void this.drift.run();
    void this.sessions.run();
  }

  private act(fn: () => Promise<unknown>): Promise<boolean> {
    return runChange(this, fn, () => this.reload());
  }

  private async openDialog(share?: Share) {
    const [users, groups] = await Promise.all([
      listUsers(this.client).catch(() => []),
      listGroups(this.client).catch(() => []),
    ]);
    this.dialog.open(
      users.map((u) => u.name),
      groups.map((g) => g.name),
      share,
    );
  }

  private async removeItem(s: Share) {
    const ok = await this.confirm.ask({
      title: format(_('Stop sharing $0?'), s.name),
      body: format(
        _('Clients can no longer connect to $0. Its directory $1 and its files stay.'),
        s.name,
        s.path,
      ),
      action: _('Delete share'),
      danger: true,
    });
    if (ok)
      await this.act(async () => {
        await deleteShare.run(this.client, s.name);
        this.done = format(_('Share $0 deleted'), s.name);
      });
  }

  /** Why no share can be made: both Samba and the NFS server missing. */
  private cannotCreate(): string | undefined {
    const s = this.status.value;
    return s && !s.samba && !s.nfs ? (s.reason ?? _('Samba is not installed')) : undefined;
  }

  override render() {
    const s = this.status.value;
    const down =
      this.status.status === TaskStatus.ERROR
        ? unavailableReason(this.status.error)
        : s && !s.samba
          ? s.reason
          : undefined;
    const blocked = this.cannotCreate();
    return html`<div class="toolbar">
        <h2>${_('File shares')}</h2>
        <span class="spacer"></span>
        <button
          class="primary"
          data-action="create-share"
          ?disabled=${!!blocked}
          title=${blocked ?? nothing}
          @click=${() => this.openDialog()}
        >
          ${_('New share…')}
        </button>
      </div>
      ${s ? this.renderStatus(s) : nothing}
      <div data-for="smb">${unavailableBanner(_('SMB (Samba)'), down, _('Install Samba, then reload this page.'))}</div>
      <div data-for="nfs">${s && !s.nfs ? unavailableBanner(_('NFS'), s.nfsReason) : nothing}</div>
      <cal-error .error=${this.error}></cal-error>
      ${this.renderDone()} ${this.renderDrift()}
      ${renderTask(
        this.shares,
        (list) =>
          list.length
            ? this.renderList(list)
            : emptyState(_('No shares yet: share a directory over SMB or NFS.'), {
                label: _('New share…'),
                run: () => this.openDialog(),
                ...(blocked ? { disabled: blocked } : {}),
              }),
        { quietUnavailable: true },
      )}
      ${this.renderSessions()}
      <cal-share-dialog
        @applied=${(e: CustomEvent<{ name: string }>) => {
          this.done = format(_('Share $0 applied'), e.detail.name);
          this.reload();
        }}
      ></cal-share-dialog>
      <cal-confirm></cal-confirm>`;
  }

  private renderStatus(s: SharesStatus) {
    const smb = !s.samba ? _('not installed') : s.smbdRunning ? _('smbd running') : _('smbd not running');
    const nfs = !s.nfs ? _('not installed') : s.nfsdRunning ? _('nfsd running') : _('nfsd not running');
    return html`<p class="muted" data-status data-samba=${s.samba} data-nfs=${s.nfs}>
      SMB: ${smb} · NFS: ${nfs} · ${format(_('accounts: $0'), s.accounts)}
    </p>`;
  }

  private renderDone() {
    if (!this.done) return nothing;
    return html`<section class="card" role="status" data-done>
      ${this.done} <button class="link" @click=${() => (this.done = undefined)}>${_('Dismiss')}</button>
    </section>`;
  }

  private renderDrift() {
    const d = this.drift.value;
    if (!d || d.inSync) return nothing;
    return html`<section class="card drift" role="alert" aria-labelledby="sh-drift" data-drift>
      <h3 id="sh-drift">${format(_('The files on disk differ from the shares configuration ($0)'), d.items.length)}</h3>
      <ul>
        ${d.items.map((i) => html`<li><span class="mono">${i.what}</span>: ${i.detail}</li>`)}
      </ul>
      <button
        class="primary"
        data-action="apply"
        ?disabled=${this.busy}
        @click=${() =>
          this.act(async () => {
            const r = await reapplyShares.run(this.client);
            this.done = format(_('Applied: $0 written'), r.changed.join(', ') || _('nothing'));
          })}
      >
        ${_('Apply')}
      </button>
    </section>`;
  }

  private renderList(list: Share[]) {
    const sessions = this.sessions.value;
    return html`<section class="card" aria-labelledby="sh-list">
      <h3 id="sh-list">${_('Shares')}</h3>
      <table data-list="shares">
        ${tableHead([_('Name'), _('Protocols'), _('Directory'), _('Dataset'), _('Access'), _('NFS clients'), _('SMB clients / open files')], true)}
        <tbody>
          ${list.map((s) => {
            const u = usageOf(sessions, s.name);
            return html`<tr data-share=${s.name}>
              <td><strong>${s.name}</strong>${s.description ? html`<br /><span class="muted">${s.description}</span>` : nothing}</td>
              <td>${s.protocols.map((p) => p.toUpperCase()).join(', ')}</td>
              <td class="mono">${s.path}${s.exists ? nothing : html` <span class="badge warn">${_('missing')}</span>`}</td>
              <td class="mono">
                ${s.dataset ?? '—'}
                ${
                  s.used !== undefined
                    ? html`<br /><span class="muted" data-space
                          >${format(_('$0 used, $1 free'), formatBytes(s.used), formatBytes(s.available))}${
                            s.quota ? ` · ${format(_('quota $0'), String(s.quota))}` : ''
                          }</span
                        >`
                    : nothing
                }
              </td>
              <td>
                ${s.readOnly ? html`<span class="badge">${_('read-only')}</span>` : _('read-write')}
                ${s.guest ? html`<span class="badge warn">${_('guests')}</span>` : nothing}
                ${
                  s.validUsers.length || s.validGroups.length
                    ? html`<br /><span class="muted"
                          >${[...s.validUsers, ...s.validGroups.map((g) => `@${g}`)].join(', ')}</span
                        >`
                    : nothing
                }
              </td>
              <td>${s.nfsClients.length ? s.nfsClients.map((c) => `${c.host} (${c.readOnly ? 'ro' : 'rw'}, ${c.squash}_squash)`).join(', ') : '—'}</td>
              <td data-usage>${s.protocols.includes('smb') ? `${u.clients} / ${u.openFiles}` : '—'}</td>
              <td>
                <button class="link" data-action="edit" @click=${() => this.openDialog(s)}>${_('Edit')}</button>
                <button class="link" data-action="delete" ?disabled=${this.busy} @click=${() => this.removeItem(s)}>
                  ${_('Delete')}
                </button>
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </section>`;
  }

  private renderSessions() {
    if (!this.status.value?.samba) return nothing;
    return html`<section class="card" aria-labelledby="sh-sessions">
      <h3 id="sh-sessions">${_('SMB sessions')}</h3>
      ${renderTask(this.sessions, (v) =>
        !v?.sessions.length
          ? html`<p class="empty muted">${_('No SMB client is connected.')}</p>`
          : html`<table data-list="sessions">
              ${tableHead([_('User'), _('Client'), _('Dialect'), _('Shares')])}
              <tbody>
                ${v.sessions.map(
                  (x) => html`<tr data-session=${x.id} data-user=${x.user}>
                    <td>${x.user}</td>
                    <td class="mono">${x.machine}</td>
                    <td>${x.dialect}</td>
                    <td>${x.shares.join(', ') || '—'}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`,
      )}
    </section>`;
  }
}
