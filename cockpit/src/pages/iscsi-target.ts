/**
 * One iSCSI target as a card: its portals, state and connected initiators; CHAP by user name
 * (the secret is typed once into a password field, sent, and never shown again — the agent only
 * says whether it is set); its LUNs (zvol or file, block size, read-only, cache, serial) and its
 * initiator groups with the LUN numbers each group sees. Every change goes through the agent and
 * the card asks its page to reload (`changed`); adding a zvol LUN is the page's dialog
 * (`add-lun`).
 */
import { consume } from '@lit/context';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { confirmAction } from '../components/confirm-dialog.js';
import '../components/error-alert.js';
import { tableHead } from '../components/list-table.js';
import { runChange } from '../components/page-state.js';
import { clientContext } from '../context.js';
import {
  backingLabel,
  type ChapInput,
  chapLabel,
  clearChap,
  createGroup,
  deleteGroup,
  deleteLun,
  deleteTarget,
  groupLunsLabel,
  type Lun,
  parsePortals,
  portalLabel,
  type Session,
  setChap,
  type Target,
  updateLun,
  updateTarget,
} from '../data/iscsi.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, formRow } from '../styles.js';

const val = (root: ShadowRoot | null, id: string) =>
  ((root?.getElementById(id) as HTMLInputElement | null)?.value ?? '').trim();

@customElement('cal-iscsi-target')
export class IscsiTargetCard extends LitElement {
  static override styles = [
    base,
    formRow,
    css`
      .row {
        margin-top: 0.5rem;
      }
      .row .field {
        margin-bottom: 0;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.25rem 1rem;
        margin: 0 0 0.75rem;
      }
      dt {
        font-weight: 500;
      }
      dd {
        margin: 0;
      }
      h4 {
        margin: 1rem 0 0.25rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @property({ attribute: false }) target!: Target;
  /** this target's sessions (empty when the backend cannot say) */
  @property({ attribute: false }) sessions: Session[] = [];
  @state() error: unknown;
  @state() private chapOpen = false;
  @state() private editOpen = false;
  @state() busy = false;

  private changed() {
    this.dispatchEvent(new CustomEvent('changed', { bubbles: true, composed: true }));
  }

  /** Run a change; show its error; have the page reload. */
  private act(fn: () => Promise<unknown>): Promise<boolean> {
    return runChange(this, fn, () => this.changed());
  }

  private async removeTarget() {
    const t = this.target;
    const who = this.sessions.map((s) => s.initiator).join(', ');
    const ok = await confirmAction({
      title: format(_('Delete target $0?'), t.iqn),
      body: [
        t.luns.length
          ? format(_('Its $0 LUN(s) stop being exported; their zvols and files stay.'), t.luns.length)
          : _('It has no LUNs.'),
        t.sessions ? format(_('Connected now: $0. They are disconnected.'), who || String(t.sessions)) : '',
      ]
        .filter(Boolean)
        .join(' '),
      typeToConfirm: t.luns.length || t.sessions ? t.iqn : undefined,
      action: _('Delete'),
      danger: true,
    });
    if (ok) await this.act(() => deleteTarget.run(this.client, t.iqn, t.sessions > 0));
  }

  private async removeLun(l: Lun) {
    const t = this.target;
    const users = this.sessions.filter((s) => !s.luns || s.luns.includes(l.lun));
    const ok = await confirmAction({
      title: format(_('Remove LUN $0 of $1?'), l.lun, t.iqn),
      body: `${format(_('$0 stays; only the export is removed.'), backingLabel(l.backing))}${
        users.length ? ` ${format(_('In use by $0.'), users.map((s) => s.initiator).join(', '))}` : ''
      }`,
      action: _('Remove'),
      danger: true,
    });
    if (ok) await this.act(() => deleteLun.run(this.client, t.iqn, l.lun, users.length > 0));
  }

  private async saveChap() {
    const root = this.shadowRoot;
    const mutualUser = val(root, 'chap-muser');
    const chap: ChapInput = {
      user: val(root, 'chap-user'),
      secret: val(root, 'chap-secret'),
      ...(mutualUser ? { mutualUser, mutualSecret: val(root, 'chap-msecret') } : {}),
    };
    const ok = await this.act(() => setChap.run(this.client, this.target.iqn, chap));
    if (ok) this.chapOpen = false;
  }

  private async saveEdit() {
    const alias = val(this.shadowRoot, 'ed-alias');
    const parsed = parsePortals(val(this.shadowRoot, 'ed-portals'));
    if ('problem' in parsed) {
      this.error = new Error(_(parsed.problem));
      return;
    }
    const ok = await this.act(() =>
      updateTarget.run(this.client, this.target.iqn, {
        ...(alias ? { alias } : {}),
        portals: parsed.portals,
      }),
    );
    if (ok) this.editOpen = false;
  }

  private async addGroup() {
    const name = val(this.shadowRoot, 'grp-name');
    const initiators = val(this.shadowRoot, 'grp-inits')
      .split(/[\s,]+/)
      .filter(Boolean);
    const ok = await this.act(() => createGroup.run(this.client, this.target.iqn, name, initiators));
    if (ok)
      for (const id of ['grp-name', 'grp-inits'])
        (this.shadowRoot?.getElementById(id) as HTMLInputElement).value = '';
  }

  override render() {
    const t = this.target;
    return html`<section class="card" aria-label=${t.iqn} data-target=${t.iqn}>
      <div class="toolbar">
        <h3>${t.alias ? html`${t.alias} <small class="mono">${t.iqn}</small>` : html`<span class="mono">${t.iqn}</span>`}</h3>
        <span class=${t.enabled ? 'badge ok' : 'badge warn'}>${t.enabled ? _('enabled') : _('disabled')}</span>
        <span class="spacer"></span>
        <button class="link" @click=${() => (this.editOpen = !this.editOpen)}>${_('Edit…')}</button>
        <button
          ?disabled=${this.busy}
          @click=${() => this.act(() => updateTarget.run(this.client, t.iqn, { enabled: !t.enabled }))}
        >
          ${t.enabled ? _('Disable') : _('Enable')}
        </button>
        <button class="link" ?disabled=${this.busy} @click=${() => this.dispatchEvent(new CustomEvent('add-lun', { detail: t.iqn, bubbles: true, composed: true }))}>
          ${_('Add LUN on a zvol…')}
        </button>
        <button class="link danger" ?disabled=${this.busy} @click=${() => this.removeTarget()}>${_('Delete')}</button>
      </div>
      <cal-error .error=${this.error}></cal-error>
      ${this.editOpen ? this.renderEditForm() : nothing}
      <dl>
        <dt>${_('Portals')}</dt>
        <dd>${t.portals.length ? t.portals.map(portalLabel).join(', ') : html`<span class="muted">${_('none (the backend’s default)')}</span>`}</dd>
        <dt>${_('Sessions')}</dt>
        <dd data-sessions=${t.sessions}>
          ${t.sessions ? this.sessions.map((s) => s.initiator).join(', ') || String(t.sessions) : html`<span class="muted">${_('none')}</span>`}
        </dd>
        <dt>${_('CHAP')}</dt>
        <dd data-chap>
          ${chapLabel(t) === 'none' ? html`<span class="muted">${_('none')}</span>` : chapLabel(t)}
          ${t.chap && !t.chapSecretSet ? html`<span class="badge bad">${_('secret not set')}</span>` : nothing}
          <button class="link" @click=${() => (this.chapOpen = !this.chapOpen)}>${t.chap ? _('Change…') : _('Set…')}</button>
          ${t.chap ? html`<button class="link danger" ?disabled=${this.busy} @click=${() => this.act(() => clearChap.run(this.client, t.iqn))}>${_('Remove')}</button>` : nothing}
        </dd>
      </dl>
      ${this.chapOpen ? this.renderChapForm() : nothing}
      <h4>${_('LUNs')}</h4>
      ${t.luns.length ? this.renderLuns() : html`<p class="empty muted">${_('No LUNs yet.')}</p>`}
      <h4>${_('Initiator groups')}</h4>
      ${
        t.groups.length
          ? html`<table data-list="groups">
              ${tableHead([_('Group'), _('Initiators'), _('LUNs it sees')], true)}
              <tbody>
                ${t.groups.map(
                  (g) => html`<tr data-group=${g.name}>
                    <td>${g.name}</td>
                    <td class="mono">${g.initiators.join(', ') || html`<span class="muted">${_('none')}</span>`}</td>
                    <td>${groupLunsLabel(g)}</td>
                    <td><button class="link danger" ?disabled=${this.busy} @click=${() => this.act(() => deleteGroup.run(this.client, t.iqn, g.name))}>${_('Remove')}</button></td>
                  </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">${_('No groups: every initiator that can log in sees every LUN.')}</p>`
      }
      <div class="row">
        <div class="field"><label for="grp-name">${_('New group')}</label><input id="grp-name" placeholder="esx-hosts" /></div>
        <div class="field"><label for="grp-inits">${_('Initiator IQNs')}</label><input id="grp-inits" size="48" placeholder="iqn.1998-01.com.vmware:esx1" /></div>
        <button ?disabled=${this.busy} @click=${() => this.addGroup()}>${_('Add group')}</button>
      </div>
    </section>`;
  }

  private renderEditForm() {
    const t = this.target;
    return html`<form class="row" aria-label=${_('Edit target')} @submit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="ed-alias">${_('Alias')}</label><input id="ed-alias" .value=${t.alias ?? ''} /></div>
      <div class="field">
        <label for="ed-portals">${_('Portals (address:port, comma-separated)')}</label>
        <input id="ed-portals" size="40" .value=${t.portals.map(portalLabel).join(', ')} />
      </div>
      <button class="primary" ?disabled=${this.busy} @click=${() => this.saveEdit()}>${_('Save')}</button>
    </form>`;
  }

  private renderChapForm() {
    return html`<form class="row" aria-label=${_('CHAP')} @submit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="chap-user">${_('User')}</label><input id="chap-user" autocomplete="off" .value=${this.target.chap?.user ?? ''} /></div>
      <div class="field"><label for="chap-secret">${_('Secret (12–16 characters)')}</label><input id="chap-secret" type="password" autocomplete="new-password" /></div>
      <div class="field"><label for="chap-muser">${_('Mutual user (optional)')}</label><input id="chap-muser" autocomplete="off" .value=${this.target.chap?.mutualUser ?? ''} /></div>
      <div class="field"><label for="chap-msecret">${_('Mutual secret')}</label><input id="chap-msecret" type="password" autocomplete="new-password" /></div>
      <button class="primary" ?disabled=${this.busy} @click=${() => this.saveChap()}>${_('Save CHAP')}</button>
    </form>`;
  }

  private renderLuns() {
    const t = this.target;
    return html`<table data-list="luns">
      ${tableHead([_('LUN'), _('Backing'), _('Block size'), _('Access'), _('Cache'), _('Serial')], true)}
      <tbody>
        ${t.luns.map(
          (l) => html`<tr data-lun=${l.lun}>
            <td class="num">${l.lun}</td>
            <td class="mono">${backingLabel(l.backing)}${l.backing.kind === 'file' ? html` <span class="muted">${formatBytes(l.backing.sizeBytes)}</span>` : nothing}</td>
            <td class="num">${l.blockSize}</td>
            <td>${l.readonly ? _('read-only') : _('read-write')}</td>
            <td>
              <select
                aria-label=${format(_('Cache of LUN $0'), l.lun)}
                ?disabled=${this.busy}
                @change=${(e: Event) =>
                  this.act(() =>
                    updateLun.run(this.client, t.iqn, l.lun, {
                      cache: (e.target as HTMLSelectElement).value as Lun['cache'],
                    }),
                  )}
              >
                <option value="write-through" ?selected=${l.cache === 'write-through'}>${_('write-through')}</option>
                <option value="write-back" ?selected=${l.cache === 'write-back'}>${_('write-back')}</option>
              </select>
            </td>
            <td class="mono">${l.serial}</td>
            <td>
              <button class="link" ?disabled=${this.busy} @click=${() => this.act(() => updateLun.run(this.client, t.iqn, l.lun, { readonly: !l.readonly }))}>
                ${l.readonly ? _('Make writable') : _('Make read-only')}
              </button>
              <button class="link danger" ?disabled=${this.busy} @click=${() => this.removeLun(l)}>${_('Remove')}</button>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
