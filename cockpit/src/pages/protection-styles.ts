/** Styles of the Data protection page's dialogs, over the plugin's dialogBase (styles.ts). */
import { css } from 'lit';

export const dialogStyles = css`
  :host {
    --cal-dialog-width: 44rem;
  }
  pre {
    white-space: pre-wrap;
    word-break: break-all;
    font-size: 0.8rem;
    background: var(--cal-bg-subtle);
    padding: 0.5rem;
  }
  .actions {
    display: flex;
    gap: 0.5rem;
    margin-top: 1rem;
  }
  ul.problems {
    color: var(--cal-danger);
    margin: 0.5rem 0;
  }
  label.check {
    font-weight: 400;
  }
`;
