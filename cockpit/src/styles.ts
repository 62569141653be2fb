/** Shared component styles (PatternFly 4's look, from the tokens in calypso.css). */
import { css } from 'lit';

export const base = css`
  :host {
    display: block;
    font-family: var(--cal-font);
    color: var(--cal-fg);
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  h1,
  h2,
  h3 {
    font-weight: 500;
    margin: 0 0 0.75rem;
  }
  h1 {
    font-size: 1.5rem;
  }
  h2 {
    font-size: 1.25rem;
  }
  h3 {
    font-size: 1rem;
  }
  .muted {
    color: var(--cal-fg-muted);
  }
  .mono,
  code,
  pre {
    font-family: var(--cal-mono);
  }
  a {
    color: var(--cal-link);
  }
  :focus-visible {
    outline: 2px solid var(--cal-focus);
    outline-offset: 2px;
  }
  .card {
    background: var(--cal-bg);
    box-shadow: var(--cal-shadow);
    border-radius: var(--cal-radius);
    padding: 1rem 1.5rem;
    margin-bottom: 1rem;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
    margin-bottom: 1rem;
  }
  .spacer {
    flex: 1;
  }
  button,
  .btn {
    font: inherit;
    border: 1px solid transparent;
    border-radius: var(--cal-radius);
    padding: 0.375rem 1rem;
    cursor: pointer;
    background: transparent;
    color: var(--cal-link);
    border-color: var(--cal-primary);
  }
  button:hover {
    border-width: 1px;
    box-shadow: inset 0 0 0 1px var(--cal-primary);
  }
  button.primary {
    background: var(--cal-primary);
    color: var(--cal-on-primary);
  }
  button.primary:hover {
    background: var(--cal-primary-hover);
  }
  button.danger {
    background: var(--cal-danger);
    border-color: var(--cal-danger);
    color: #fff;
  }
  button.danger:hover {
    background: var(--cal-danger-hover);
    box-shadow: none;
  }
  button.link {
    border-color: transparent;
    padding: 0.25rem 0.5rem;
  }
  button.link:hover {
    box-shadow: none;
    text-decoration: underline;
  }
  button:disabled {
    cursor: default;
    color: var(--cal-fg-muted);
    background: var(--cal-bg-subtle);
    border-color: var(--cal-border);
    box-shadow: none;
  }
  input,
  select,
  textarea {
    font: inherit;
    color: var(--cal-fg);
    background: var(--cal-bg);
    border: 1px solid var(--cal-border);
    border-bottom-color: var(--cal-border-strong);
    border-radius: 0;
    padding: 0.3rem 0.5rem;
  }
  input:focus,
  select:focus,
  textarea:focus {
    outline: none;
    border-bottom: 2px solid var(--cal-primary);
  }
  label {
    font-weight: 500;
  }
  .field {
    display: flex;
    flex-direction: column;
    gap: 0.25rem;
    margin-bottom: 1rem;
  }
  .field .help {
    font-size: 0.875rem;
    color: var(--cal-fg-muted);
    font-weight: 400;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    background: var(--cal-bg);
  }
  th,
  td {
    text-align: left;
    padding: 0.5rem 0.75rem;
    border-bottom: 1px solid var(--cal-border);
    vertical-align: top;
  }
  th {
    font-weight: 500;
    font-size: 0.875rem;
  }
  tbody tr:hover {
    background: var(--cal-bg-hover);
  }
  .badge {
    display: inline-block;
    border-radius: 30em;
    padding: 0 0.5rem;
    font-size: 0.75rem;
    font-weight: 500;
    background: var(--cal-bg-subtle);
    border: 1px solid var(--cal-border);
    white-space: nowrap;
  }
  .badge.ok {
    color: var(--cal-success);
    border-color: var(--cal-success);
    background: var(--cal-success-bg);
  }
  .badge.warn {
    color: var(--cal-warning-fg);
    border-color: var(--cal-warning);
    background: var(--cal-warning-bg);
  }
  .badge.bad {
    color: var(--cal-danger);
    border-color: var(--cal-danger);
    background: var(--cal-danger-bg);
  }
  .empty {
    text-align: center;
    padding: 2rem;
    color: var(--cal-fg-muted);
  }
  .unavailable {
    border-top: 2px solid var(--cal-warning);
    background: var(--cal-warning-bg);
  }
  .unavailable p {
    margin: 0.25rem 0 0;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  .grid {
    display: grid;
    gap: 1rem;
    grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr));
  }
  dl.props {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.25rem 1rem;
    margin: 0;
  }
  dl.props dt {
    color: var(--cal-fg-muted);
  }
  dl.props dd {
    margin: 0;
  }
  td.num,
  th.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
`;

/** A form's fields side by side on one row (wrapping), its buttons level with the inputs. */
export const formRow = css`
  .row {
    display: flex;
    gap: 0.75rem;
    align-items: end;
    flex-wrap: wrap;
  }
`;

/** Command output and plans: wrapped, small, on the subtle background. */
export const preBlock = css`
  pre {
    white-space: pre-wrap;
    word-break: break-all;
    font-size: 0.8rem;
    background: var(--cal-bg-subtle);
    padding: 0.5rem;
  }
`;

/**
 * The plugin's dialogs: a <dialog> on the page's colours over a dimmed backdrop, its form as
 * label/field rows, the plan shown before a change (pre), its problems and its buttons. A dialog sets its width with `--cal-dialog-width` on :host (default 48rem).
 */
export const dialogBase = css`
  dialog {
    border: none;
    padding: 1.5rem;
    width: min(var(--cal-dialog-width, 48rem), 95vw);
    background: var(--cal-bg);
    color: var(--cal-fg);
    box-shadow: 0 0.5rem 1rem rgba(3, 3, 3, 0.3);
  }
  dialog::backdrop {
    background: rgba(3, 3, 3, 0.62);
  }
  form {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 0.5rem 0.75rem;
    align-items: center;
  }
  ${preBlock}
  .actions {
    display: flex;
    gap: 0.5rem;
    margin-top: 1rem;
  }
  ul.problems {
    color: var(--cal-danger);
    margin: 0.5rem 0;
  }
`;

/** Badge class for a ZFS health / SMART / job state word. */
export function healthClass(word: string | undefined): string {
  const w = (word ?? '').toUpperCase();
  if (['ONLINE', 'PASSED', 'OK', 'SUCCESS', 'AVAIL'].includes(w)) return 'badge ok';
  if (['DEGRADED', 'WARNING', 'RUNNING', 'WAITING', 'OFFLINE', 'INTERRUPTED', 'ABORTED'].includes(w))
    return 'badge warn';
  if (w) return 'badge bad';
  return 'badge';
}
