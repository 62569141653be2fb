/** Styles shared by the Data protection page's dialogs (as the iSCSI LUN dialog has them). */
import { css } from 'lit';

export const dialogStyles = css`
  dialog {
    border: none;
    padding: 1.5rem;
    width: min(44rem, 95vw);
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
