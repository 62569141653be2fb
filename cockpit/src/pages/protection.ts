/**
 * Data protection (issue #27): the copies of the data kept elsewhere and the proof that they
 * restore, on one page at #/protection. Remotes and replication tasks
 * (protection-replication.ts), immutable targets (buckets with Object Lock: mode and retention),
 * Bacula copy and migrate jobs, restore drills with their reports and the maintenance calendar
 * (protection-drills.ts). Each section says on its own when its subsystem is not available.
 */
import { consume } from '@lit/context';
import { Task } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import { tableHead } from '../components/list-table.js';
import { emptyState, unavailableBanner } from '../components/page-state.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { type BucketLock, type CopyJob, listCopyJobs, listImmutable } from '../data/protection.js';
import { _, format, ngettext } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base } from '../styles.js';
import { sectionDown } from './protection-state.js';
import './protection-replication.js';
import './protection-drills.js';
import './protection-replica-drills.js';

/** A bucket's default retention in words ('' when it has none). */
const retention = (l: { days?: number; years?: number }) =>
  l.years !== undefined
    ? format(ngettext('$0 year', '$0 years', l.years), l.years)
    : l.days !== undefined
      ? format(ngettext('$0 day', '$0 days', l.days), l.days)
      : '';

@customElement('cal-protection')
export class ProtectionPage extends LitElement {
  static override styles = [
    base,
    css`
      section.card {
        margin-bottom: 1rem;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;

  private immutable = new Task(this, {
    task: ([c], { signal }) => listImmutable(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private copies = new Task(this, {
    task: ([c], { signal }) => listCopyJobs(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });

  override render() {
    return html`<div class="toolbar"><h2>${_('Data protection')}</h2></div>
      <cal-protection-replication></cal-protection-replication>
      ${this.renderImmutable()} ${this.renderCopies()}
      <cal-protection-replica-drills></cal-protection-replica-drills>
      <cal-protection-drills></cal-protection-drills>`;
  }

  private renderImmutable() {
    const down = sectionDown(this.immutable);
    return html`<section class="card" aria-labelledby="dp-immutable">
      <h3 id="dp-immutable">${_('Immutable targets')}</h3>
      ${unavailableBanner(_('Object storage'), down, _('Configure the object storage backend (docs/object.md).'))}
      ${
        down
          ? nothing
          : renderTask(
              this.immutable,
              (items: BucketLock[]) =>
                items.length === 0
                  ? emptyState(
                      _(
                        'No bucket has Object Lock: make an immutable target with object.target.immutable.create (docs/object.md).',
                      ),
                    )
                  : html`<table data-list="immutable">
                      ${tableHead([_('Bucket'), _('Mode'), _('Default retention')])}
                      <tbody>
                        ${items.map(
                          (b) => html`<tr data-name=${b.name}>
                            <td>${b.name}</td>
                            <td>${b.mode ? _(b.mode) : _('no default retention')}</td>
                            <td>${retention(b)}</td>
                          </tr>`,
                        )}
                      </tbody>
                    </table>`,
              { quietUnavailable: true },
            )
      }
    </section>`;
  }

  private renderCopies() {
    const down = sectionDown(this.copies);
    return html`<section class="card" aria-labelledby="dp-copies">
      <h3 id="dp-copies">${_('Copy jobs')}</h3>
      ${unavailableBanner(_('Bacula'), down, _('Copy jobs need Bacula (docs/backup.md).'))}
      ${
        down
          ? nothing
          : renderTask(
              this.copies,
              (items: CopyJob[]) =>
                items.length === 0
                  ? emptyState(
                      _(
                        'No copy jobs: a copy job (backup.job.set type copy) keeps a second copy of backups in another pool.',
                      ),
                    )
                  : html`<table data-list="copies">
                      ${tableHead([_('Name'), _('Type'), _('From pool'), _('To pool'), _('Selection'), _('Schedule')])}
                      <tbody>
                        ${items.map(
                          (j) => html`<tr data-name=${j.name}>
                            <td>${j.name}</td>
                            <td>${j.type}</td>
                            <td>${j.pool}</td>
                            <td>${j.nextPool ?? ''}</td>
                            <td>${j.selection ?? ''}${j.selectionPattern ? ` ${j.selectionPattern}` : ''}</td>
                            <td>${j.schedule ?? _('by hand')}</td>
                          </tr>`,
                        )}
                      </tbody>
                    </table>`,
              { quietUnavailable: true },
            )
      }
    </section>`;
  }
}
