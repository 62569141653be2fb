/**
 * Terminal: a login shell on the appliance in xterm.js (admin only; the agent decides and
 * audits). xterm.js is loaded on first use, in its own chunk, so the other pages do not pay for
 * it. Output is acknowledged after xterm.js has rendered it, so a flood (`yes`, a big `cat`)
 * pauses the shell instead of piling up in the page.
 */
import { consume } from '@lit/context';
import { html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/error-alert.js';
import { clientContext } from '../context.js';
import { openTerminal, type TerminalHandle } from '../data/terminal.js';
import { _, format } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';

const ACK_EVERY = 64 * 1024;

const LAYOUT = `
cal-terminal .term-bar { display: flex; gap: 0.5rem; align-items: center; margin-bottom: 1rem; }
cal-terminal .term-bar h2 { margin: 0; }
cal-terminal .term { height: max(20rem, calc(100vh - 15rem)); padding: 0.5rem; background: var(--cal-bg); box-shadow: var(--cal-shadow); }
`;
let sheet: CSSStyleSheet | undefined;

/**
 * Constructed stylesheets (no inline <style>, so the page's CSP stays strict), adopted by the
 * tree the page is rendered in: the app's shadow root, which document styles do not reach.
 */
function adoptStyles(root: Node, xtermCss: string): void {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(`${xtermCss}\n${LAYOUT}`);
  }
  const target = root as Document | ShadowRoot;
  if (!target.adoptedStyleSheets.includes(sheet))
    target.adoptedStyleSheets = [...target.adoptedStyleSheets, sheet];
}

type XTerm = import('@xterm/xterm').Terminal;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

@customElement('cal-terminal')
export class TerminalPage extends LitElement {
  @consume({ context: clientContext }) client!: AgentClient;
  @state() private status: 'starting' | 'open' | 'closed' = 'starting';
  @state() private closedReason = '';
  @state() private error: unknown;
  @query('.term') private host!: HTMLElement;
  private term: XTerm | undefined;
  private handle: TerminalHandle | undefined;
  private resizeObserver: ResizeObserver | undefined;
  private fit: { fit(): void } | undefined;

  // Light DOM: xterm.js measures and positions its own elements, which shadow DOM gets in the way of.
  protected override createRenderRoot() {
    return this;
  }

  override firstUpdated(): void {
    void this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver?.disconnect();
    void this.handle?.close().catch(() => {});
    this.handle?.dispose();
    this.term?.dispose();
  }

  private async start() {
    this.error = undefined;
    this.status = 'starting';
    const [{ Terminal }, { FitAddon }, css] = await Promise.all([
      import('@xterm/xterm'),
      import('@xterm/addon-fit'),
      import('@xterm/xterm/css/xterm.css'),
    ]);
    adoptStyles(this.getRootNode(), css.default);
    this.term?.dispose();
    this.host.replaceChildren();
    const dark = document.documentElement.classList.contains('pf-theme-dark');
    const term = new Terminal({
      fontFamily: cssVar('--cal-mono') || 'monospace',
      fontSize: 14,
      cursorBlink: true,
      scrollback: 5000,
      theme: dark
        ? { background: '#212427', foreground: '#e0e0e0', cursor: '#e0e0e0' }
        : { background: '#ffffff', foreground: '#151515', cursor: '#151515', selectionBackground: '#b8d7f5' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(this.host);
    fit.fit();
    this.term = term;
    this.fit = fit;

    let received = 0;
    let acked = 0;
    try {
      this.handle = await openTerminal(
        this.client,
        { cols: term.cols, rows: term.rows },
        (out) => {
          term.write(out.data, () => {
            received += out.data.length;
            if (received - acked >= ACK_EVERY) {
              acked = received;
              void this.handle?.ack(received).catch(() => {});
            }
          });
        },
        (closed) => {
          this.status = 'closed';
          this.closedReason = closed.reason;
          term.write(`\r\n\x1b[2m[${format(_('session ended: $0'), closed.reason)}]\x1b[0m\r\n`);
        },
      );
    } catch (e) {
      this.error = e;
      this.status = 'closed';
      return;
    }
    this.status = 'open';
    term.onData((d) => void this.handle?.input(d).catch((e) => (this.error = e)));
    term.onResize(({ cols, rows }) => void this.handle?.resize(cols, rows).catch(() => {}));
    this.resizeObserver?.disconnect();
    this.resizeObserver = new ResizeObserver(() => this.fit?.fit());
    this.resizeObserver.observe(this.host);
    term.focus();
  }

  override render() {
    return html`<div class="term-bar">
        <h2>${_('Terminal')}</h2>
        <span data-status=${this.status}>${
          this.status === 'open'
            ? ''
            : this.status === 'starting'
              ? _('Starting…')
              : format(_('Closed ($0)'), this.closedReason || _('not started'))
        }</span>
        ${this.status === 'closed' ? html`<button @click=${() => this.start()}>${_('New session')}</button>` : nothing}
      </div>
      <cal-error .error=${this.error}></cal-error>
      <div class="term" role="application" aria-label=${_('Terminal')}></div>`;
  }
}
