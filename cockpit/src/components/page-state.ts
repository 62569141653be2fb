/**
 * Empty and unavailable states, the same on every page (issue #24): an unavailable subsystem is
 * said once, at the top of its page, with the reason and what to do; its actions are disabled
 * with the reason as their title; an empty list says what to do next.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { _, format } from '../i18n.js';
import { explain } from '../rpc/errors.js';

/** The reason of the first error that says the subsystem is unavailable (else undefined). */
export function unavailableReason(...errors: unknown[]): string | undefined {
  for (const e of errors)
    if (e && typeof e === 'object' && (e as { kind?: string }).kind === 'unavailable')
      return explain(e).detail;
  return undefined;
}

/** Once per page: what is unavailable, why, and what to do. */
export function unavailableBanner(what: string, reason: string | undefined, todo?: string): unknown {
  if (!reason) return nothing;
  return html`<div class="card unavailable" role="status" data-unavailable>
    <strong>${format(_('$0 is not available here'), what)}</strong>
    <p class="reason">${reason}</p>
    ${todo ? html`<p class="todo">${todo}</p>` : nothing}
  </div>`;
}

/** An empty list: what it is, and the next step (a button that does it, when there is one). */
export function emptyState(
  text: string,
  next?: { label: string; run: () => void; disabled?: string },
): TemplateResult {
  return html`<p class="empty card" data-empty>
    ${text}${
      next
        ? html` — <button class="link" data-next ?disabled=${!!next.disabled} title=${next.disabled ?? nothing} @click=${next.run}>${next.label}</button>`
        : nothing
    }
  </p>`;
}

/** What a page shows while a change runs: busy (its buttons disabled) and the change's error. */
export interface ChangeState {
  busy: boolean;
  error: unknown;
}

/**
 * Run a change from a page: busy while it runs, the last error cleared and the new one shown,
 * then `after` (the page reloads what it may have changed). True when the change succeeded.
 */
export async function runChange(
  page: ChangeState,
  fn: () => Promise<unknown>,
  after: () => void,
): Promise<boolean> {
  page.error = undefined;
  page.busy = true;
  try {
    await fn();
    return true;
  } catch (e) {
    page.error = e;
    return false;
  } finally {
    page.busy = false;
    after();
  }
}
