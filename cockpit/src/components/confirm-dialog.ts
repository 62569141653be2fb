/**
 * A confirmation that names what will be destroyed and, for destructive work, asks for the
 * name to be typed. Native <dialog>: modal, focus kept inside, Escape cancels.
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { _ } from '../i18n.js';
import { base } from '../styles.js';

export interface ConfirmOptions {
  title: string;
  body: string;
  /** text the user must type to enable the action (a pool or dataset name) */
  typeToConfirm?: string;
  action: string;
  danger?: boolean;
}

@customElement('cal-confirm')
export class ConfirmDialog extends LitElement {
  static override styles = [
    base,
    css`
      dialog {
        border: none;
        padding: 1.5rem;
        max-width: 36rem;
        background: var(--cal-bg);
        color: var(--cal-fg);
        box-shadow: 0 0.5rem 1rem rgba(3, 3, 3, 0.3);
      }
      dialog::backdrop {
        background: rgba(3, 3, 3, 0.62);
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        margin-top: 1.5rem;
      }
      .warn-icon {
        color: var(--cal-danger);
      }
    `,
  ];

  @property({ attribute: false }) options: ConfirmOptions = { title: '', body: '', action: '' };
  @state() private typed = '';
  @query('dialog') private dialog!: HTMLDialogElement;
  private resolve: ((ok: boolean) => void) | undefined;

  /** Show the dialog; resolves true when confirmed. */
  ask(options: ConfirmOptions): Promise<boolean> {
    this.options = options;
    this.typed = '';
    return this.updateComplete.then(
      () =>
        new Promise<boolean>((resolve) => {
          this.resolve = resolve;
          this.dialog.showModal();
        }),
    );
  }

  private finish(ok: boolean) {
    this.dialog.close();
    const r = this.resolve;
    this.resolve = undefined;
    r?.(ok);
  }

  override render() {
    const o = this.options;
    const ready = !o.typeToConfirm || this.typed === o.typeToConfirm;
    return html`<dialog
      aria-labelledby="t"
      @cancel=${(e: Event) => {
        e.preventDefault();
        this.finish(false);
      }}
    >
      <h2 id="t">${o.danger ? html`<span class="warn-icon" aria-hidden="true">⚠</span> ` : nothing}${o.title}</h2>
      <p>${o.body}</p>
      ${
        o.typeToConfirm
          ? html`<div class="field">
            <label for="c">${_('Type the name to confirm:')} <code>${o.typeToConfirm}</code></label>
            <input
              id="c"
              autocomplete="off"
              .value=${this.typed}
              @input=${(e: InputEvent) => {
                this.typed = (e.target as HTMLInputElement).value;
              }}
            />
          </div>`
          : nothing
      }
      <div class="actions">
        <button class=${o.danger ? 'danger' : 'primary'} ?disabled=${!ready} @click=${() => this.finish(true)}>
          ${o.action}
        </button>
        <button class="link" @click=${() => this.finish(false)}>${_('Cancel')}</button>
      </div>
    </dialog>`;
  }
}

/** One shared dialog per document. */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  let el = document.querySelector('cal-confirm') as ConfirmDialog | null;
  if (!el) {
    el = document.createElement('cal-confirm') as ConfirmDialog;
    document.body.append(el);
  }
  return el.ask(options);
}
