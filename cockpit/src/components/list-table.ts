/** The head of a list table, the same on every page. */
import { html, nothing, type TemplateResult } from 'lit';
import { _ } from '../i18n.js';

/** A header cell per column; with `actions`, a last column for the row's buttons (named for screen readers). */
export function tableHead(columns: string[], actions = false): TemplateResult {
  return html`<thead>
    <tr>
      ${columns.map((c) => html`<th scope="col">${c}</th>`)}
      ${actions ? html`<th scope="col"><span class="sr-only">${_('Actions')}</span></th>` : nothing}
    </tr>
  </thead>`;
}
