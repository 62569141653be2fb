/**
 * "Pair a remote": the other appliance's address and the dataset prefix it will receive into;
 * "Read host key" asks the agent what host key the remote shows now (remote.hostkey, nothing
 * stored) and shows its fingerprint; Pair is enabled only once the person has said that it
 * matches what the other appliance shows, and remote.pair then pins exactly that key (it refuses
 * any other). Any edit of the address drops the key read. After pairing, the dialog shows the
 * public key to authorize on the remote (remote.authorize there).
 */
import { consume } from '@lit/context';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { clientContext } from '../context.js';
import {
  type HostKey,
  newPairDraft,
  type PairDraft,
  pairParams,
  pairProblems,
  pairRemote,
  type Remote,
  scanHostKey,
} from '../data/protection.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, dialogBase } from '../styles.js';
import { dialogStyles } from './protection-styles.js';

@customElement('cal-pair-dialog')
export class PairDialog extends LitElement {
  static override styles = [
    base,
    dialogBase,
    dialogStyles,
    css`
      .fingerprint {
        font-family: monospace;
        font-size: 1rem;
        word-break: break-all;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private draft: PairDraft = newPairDraft();
  @state() private key: HostKey | undefined;
  @state() private confirmed = false;
  @state() private paired: Remote | undefined;
  @state() private error: unknown;
  @state() private busy = false;
  @query('dialog') private dialog!: HTMLDialogElement;

  open() {
    this.draft = newPairDraft();
    this.key = undefined;
    this.confirmed = false;
    this.paired = undefined;
    this.error = undefined;
    void this.updateComplete.then(() => this.dialog.showModal());
  }

  close() {
    this.dialog?.close();
  }

  private set<K extends keyof PairDraft>(k: K, v: PairDraft[K]) {
    this.draft = { ...this.draft, [k]: v };
    this.error = undefined;
    if (k === 'host' || k === 'port') {
      this.key = undefined;
      this.confirmed = false;
    }
  }

  private async readKey() {
    this.error = undefined;
    this.busy = true;
    try {
      this.key = await scanHostKey(this.client, this.draft.host, Number(this.draft.port));
      this.confirmed = false;
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private async pair() {
    if (!this.key || !this.confirmed) return;
    this.error = undefined;
    this.busy = true;
    try {
      this.paired = await pairRemote(this.client, pairParams(this.draft, this.key.hostKeyFingerprint));
      this.dispatchEvent(new CustomEvent('paired', { detail: this.paired, bubbles: true, composed: true }));
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }

  private renderPaired(r: Remote) {
    return html`<section data-paired>
        <p>${format(_('$0 is paired; its host key $1 is pinned.'), r.name, r.hostKeyFingerprint)}</p>
        <p>
          ${format(
            _(
              'On $0, let this key replicate into $1 (remote.authorize there, or calypsoctl remote authorize):',
            ),
            r.host,
            r.prefix,
          )}
        </p>
        <pre data-public-key>${r.publicKey}</pre>
      </section>
      <div class="actions"><button class="primary" @click=${() => this.close()}>${_('Close')}</button></div>`;
  }

  override render() {
    // one <dialog> element throughout: a new one (another template) would not be open
    return html`<dialog aria-labelledby="pair-title">
      ${
        this.paired
          ? html`<h2 id="pair-title">${_('Remote paired')}</h2>
              ${this.renderPaired(this.paired)}`
          : this.renderForm()
      }
    </dialog>`;
  }

  private renderForm() {
    const d = this.draft;
    const problems = pairProblems(d);
    const field = (k: keyof PairDraft, label: string, placeholder: string) =>
      html`<label for=${`pair-${k}`}>${label}</label>
        <input
          id=${`pair-${k}`}
          .value=${d[k]}
          placeholder=${placeholder}
          @input=${(e: Event) => this.set(k, (e.target as HTMLInputElement).value.trim())}
        />`;
    return html`<h2 id="pair-title">${_('Pair a remote')}</h2>
      <form @submit=${(e: Event) => e.preventDefault()}>
        ${field('name', _('Name'), 'dr-site')} ${field('host', _('Host'), 'backup2.example.net')}
        ${field('port', _('SSH port'), '22')} ${field('user', _('User'), 'root')}
        ${field('prefix', _('Receive into'), 'tank/backup')}
      </form>
      ${
        problems.length && d.name && d.host && d.prefix
          ? html`<ul class="problems" data-problems>${problems.map((p) => html`<li>${_(p)}</li>`)}</ul>`
          : nothing
      }
      ${
        this.key
          ? html`<section data-hostkey aria-label=${_('Host key')}>
              <p>${format(_('$0 port $1 shows this ed25519 host key:'), this.key.host, this.key.port)}</p>
              <p class="fingerprint" data-fingerprint>${this.key.hostKeyFingerprint}</p>
              <p class="muted">
                ${_('Compare it with what the other appliance shows (ssh-keygen -lf on its ed25519 host key). Pairing pins this key: a different one later fails every connection.')}
              </p>
              <label class="check">
                <input
                  id="pair-confirm"
                  type="checkbox"
                  .checked=${this.confirmed}
                  @change=${(e: Event) => (this.confirmed = (e.target as HTMLInputElement).checked)}
                />
                ${_('The fingerprint matches')}
              </label>
            </section>`
          : nothing
      }
      <cal-error .error=${this.error}></cal-error>
      <div class="actions">
        <button data-action="read-key" ?disabled=${this.busy || problems.length > 0} @click=${() => this.readKey()}>
          ${_('Read host key')}
        </button>
        <button
          class="primary"
          data-action="pair"
          ?disabled=${this.busy || !this.key || !this.confirmed || problems.length > 0}
          @click=${() => this.pair()}
        >
          ${_('Pair')}
        </button>
        <button class="link" @click=${() => this.close()}>${_('Cancel')}</button>
      </div>`;
  }
}
