/** Styles of the Data protection page's dialogs, over the plugin's dialogBase (styles.ts). */
import { css } from 'lit';

export const dialogStyles = css`
  :host {
    --cal-dialog-width: 44rem;
  }
  label.check {
    font-weight: 400;
  }
`;
