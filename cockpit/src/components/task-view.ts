/** Rendering a @lit/task load the same way everywhere: a short "Loading…", the error in plain words, or the content. */
import type { Task } from '@lit/task';
import { html, nothing, type TemplateResult } from 'lit';
import { _ } from '../i18n.js';
import './error-alert.js';

export function renderTask<T>(
  task: Task<readonly unknown[], T>,
  complete: (value: T) => TemplateResult | TemplateResult[] | string,
  /** `unavailable` errors render nothing: the page says it once (components/page-state.ts) */
  o: { quietUnavailable?: boolean } = {},
): unknown {
  return task.render({
    initial: () => html`<p class="muted" aria-busy="true">${_('Loading…')}</p>`,
    pending: () =>
      task.value === undefined
        ? html`<p class="muted" aria-busy="true">${_('Loading…')}</p>`
        : complete(task.value as T),
    complete,
    error: (e) =>
      o.quietUnavailable && (e as { kind?: string } | undefined)?.kind === 'unavailable'
        ? nothing
        : html`<cal-error .error=${e}></cal-error>`,
  });
}
