/** Areas without pages yet (iSCSI, tape, backup, object storage): what system.capabilities says about them. */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { html, LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { AREA_CAPABILITIES, capabilities } from '../data/system.js';
import { _ } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';

const TITLES: Record<string, string> = {
  iscsi: _('iSCSI'),
  tape: _('Tape & VTL'),
  backup: _('Backup'),
  object: _('Object storage'),
};

@customElement('cal-placeholder')
export class PlaceholderPage extends LitElement {
  static override styles = [base];
  @consume({ context: clientContext }) client!: AgentClient;
  @property() area = '';

  private caps = new Task(this, {
    task: ([c], { signal }) => capabilities(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override render() {
    const wanted = AREA_CAPABILITIES[this.area] ?? [];
    return html`<h2>${TITLES[this.area] ?? this.area}</h2>
      <p class="muted">${_('Management pages for this area are coming. This is what the appliance provides for it now:')}</p>
      ${renderTask(this.caps, (all) => {
        const rows = all.filter((c) => wanted.includes(c.name));
        return html`<table data-area=${this.area}>
          <thead>
            <tr>
              <th>${_('Component')}</th>
              <th>${_('Available')}</th>
              <th>${_('Version')}</th>
              <th>${_('Details')}</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (c) => html`<tr data-capability=${c.name}>
                <td>${c.name}</td>
                <td><span class=${c.available ? 'badge ok' : 'badge warn'}>${c.available ? _('yes') : _('no')}</span></td>
                <td>${c.version ?? '—'}</td>
                <td>${c.available ? (c.path ?? '') : (c.reason ?? '')}</td>
              </tr>`,
            )}
          </tbody>
        </table>`;
      })}`;
  }
}
