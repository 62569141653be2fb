/**
 * Object storage (S3 on Ceph RGW or MinIO): the gateway's status (and why it is not serving),
 * buckets with usage and quota bars, users and their access keys — a new secret is shown once
 * in a dialog and forgotten when it closes —, canned grants per bucket, and migration jobs from
 * another S3 server with live byte progress. The agent answers `unavailable` with a reason when
 * the backend is missing or down; the page says so and keeps the start button.
 */
import { consume } from '@lit/context';
import { Task, TaskStatus } from '@lit/task';
import { css, html, LitElement, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import '../components/confirm-dialog.js';
import type { ConfirmDialog } from '../components/confirm-dialog.js';
import '../components/error-alert.js';
import { tableHead } from '../components/list-table.js';
import { unavailableBanner, unavailableReason } from '../components/page-state.js';
import { jobProgress } from '../components/progress-bar.js';
import { renderTask } from '../components/task-view.js';
import { clientContext } from '../context.js';
import { isFinal, JOB_TOPICS, type JobSummary } from '../data/jobs.js';
import * as obj from '../data/object.js';
import { _, format, formatBytes } from '../i18n.js';
import type { AgentClient } from '../rpc/client.js';
import { base, formRow } from '../styles.js';

const val = (root: ShadowRoot | null, id: string) =>
  ((root?.getElementById(id) as HTMLInputElement | null)?.value ?? '').trim();

/**
 * The bucket table shows what the gateway counts (`usage`), which is what the quota limits:
 * every stored version and the parts of unfinished multipart uploads are included, so it can be
 * more than an S3 client lists. object.bucket.get / contents count each kind apart (issue #22).
 */
const storedHint = () =>
  _(
    'What the gateway stores and the quota limits: every version and the parts of unfinished uploads included. `calypsoctl call object.bucket.contents` counts each kind apart.',
  );

@customElement('cal-object')
export class ObjectPage extends LitElement {
  static override styles = [
    base,
    formRow,
    css`
      .row {
        margin-top: 0.5rem;
      }
      .quota {
        min-width: 10rem;
      }
      dialog.secret code {
        user-select: all;
        word-break: break-all;
      }
    `,
  ];

  @consume({ context: clientContext }) client!: AgentClient;
  @state() private error: unknown;
  @state() private newKey: obj.NewKey | undefined;
  @state() private grantBucket = '';
  @state() private migration: JobSummary | undefined;
  @query('cal-confirm') private confirm!: ConfirmDialog;
  @query('dialog.secret') private secretDialog!: HTMLDialogElement;
  private offs: (() => void)[] = [];

  private status = new Task(this, {
    task: ([c], { signal }) => obj.objectStatus(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private buckets = new Task(this, {
    task: ([c], { signal }) => obj.listBuckets(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private users = new Task(this, {
    task: ([c], { signal }) => obj.listUsers(c as AgentClient, { signal }),
    args: () => [this.client] as const,
  });
  private grants = new Task(this, {
    task: ([c, b], { signal }) =>
      b ? obj.listGrants(c as AgentClient, b as string, { signal }) : Promise.resolve([]),
    args: () => [this.client, this.grantBucket] as const,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    this.offs.push(
      this.client.on(JOB_TOPICS, (ev) => {
        const j = ev.data as JobSummary;
        if (j.method !== 'object.migrate' || (this.migration && this.migration.id !== j.id)) return;
        this.migration = j;
        if (isFinal(j.state)) void this.buckets.run();
      }),
    );
  }
  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs.splice(0)) off();
  }

  /** Run an action; show its error; reload what it changed. */
  private async act(fn: () => Promise<unknown>, ...reload: Task<readonly unknown[], unknown>[]) {
    this.error = undefined;
    try {
      await fn();
    } catch (e) {
      this.error = e;
    }
    for (const t of reload) void t.run();
  }

  private showSecret(k: obj.NewKey) {
    this.newKey = k;
    void this.updateComplete.then(() => this.secretDialog.showModal());
  }
  private forgetSecret() {
    this.secretDialog.close();
    this.newKey = undefined;
  }

  /** Why the backend cannot serve buckets and users (said once, at the top); undefined when it can. */
  private down(): string | undefined {
    const failed = (t: Task<readonly unknown[], unknown>) =>
      t.status === TaskStatus.ERROR ? t.error : undefined;
    return unavailableReason(failed(this.status), failed(this.buckets), failed(this.users));
  }

  override render() {
    return html`<div class="toolbar"><h2>${_('Object storage')}</h2></div>
      ${unavailableBanner(
        _('Object storage'),
        this.down(),
        _('Configure the backend under object in calypso.yaml (docs/object.md), then reload this page.'),
      )}
      <cal-error .error=${this.error}></cal-error>
      ${this.renderStatus()} ${this.renderBuckets()} ${this.renderUsers()} ${this.renderGrants()}
      ${this.renderMigration()}
      <cal-confirm></cal-confirm>
      <dialog class="secret" aria-labelledby="ob-secret-title" @cancel=${(e: Event) => e.preventDefault()}>
        ${
          this.newKey
            ? html`<h3 id="ob-secret-title">${format(_('New access key for $0'), this.newKey.user)}</h3>
                <p>${_('Copy the secret key now: it is shown only this once and is not kept by the appliance.')}</p>
                <p>${_('Access key')}: <code data-access-key>${this.newKey.accessKey}</code></p>
                <p>${_('Secret key')}: <code data-secret-key>${this.newKey.secretKey}</code></p>
                <button class="primary" @click=${() => this.forgetSecret()}>${_('I have stored it')}</button>`
            : nothing
        }
      </dialog>`;
  }

  private renderStatus() {
    return html`<section class="card" aria-labelledby="ob-status">
      <h3 id="ob-status">${_('Service')}</h3>
      ${renderTask(this.status, (s) => {
        const managed = s.gateway.managed;
        return html`<p data-available=${s.available}>
            <span class=${s.available ? 'badge ok' : 'badge bad'}>${s.available ? _('serving') : _('not serving')}</span>
            ${s.backend} · ${s.endpoint} ${s.version ? html`<span class="muted">${s.version}</span>` : nothing}
          </p>
          ${s.reason && !this.down() ? html`<p class="muted" data-reason>${s.reason}</p>` : nothing}
          ${
            managed
              ? html`<div class="row">
                  <button ?disabled=${s.gateway.running} @click=${() => this.act(() => obj.startGateway(this.client), this.status, this.buckets, this.users)}>
                    ${_('Start')}
                  </button>
                  <button ?disabled=${!s.gateway.running} @click=${() => this.act(() => obj.stopGateway(this.client), this.status, this.buckets, this.users)}>
                    ${_('Stop')}
                  </button>
                </div>`
              : nothing
          }`;
      })}
    </section>`;
  }

  private renderBuckets() {
    const down = this.down();
    return html`<section class="card" aria-labelledby="ob-buckets">
      <h3 id="ob-buckets">${_('Buckets')}</h3>
      ${renderTask(
        this.buckets,
        (items) =>
          items.length === 0
            ? html`<p class="empty" data-empty>${_('No buckets yet: name one and choose its owner below.')}</p>`
            : html`<table data-list="buckets">
              <thead>
                <tr>
                  <th scope="col">${_('Name')}</th>
                  <th scope="col">${_('Owner')}</th>
                  <th scope="col" title=${storedHint()}>${_('Stored objects')}</th>
                  <th scope="col" title=${storedHint()}>${_('Stored size')}</th>
                  <th scope="col">${_('Quota')}</th>
                  <th scope="col"><span class="sr-only">${_('Actions')}</span></th>
                </tr>
              </thead>
              <tbody>
                ${items.map((b) => this.renderBucket(b))}
              </tbody>
            </table>`,
        { quietUnavailable: true },
      )}
      <div class="row">
        <div class="field"><label for="ob-bname">${_('New bucket')}</label><input id="ob-bname" placeholder="backups-2026" /></div>
        <div class="field"><label for="ob-bowner">${_('Owner')}</label><input id="ob-bowner" /></div>
        <button class="primary" data-action="create-bucket" ?disabled=${!!down} title=${down ?? nothing} @click=${() => this.createBucket()}>${_('Create')}</button>
      </div>
    </section>`;
  }

  private renderBucket(b: obj.Bucket) {
    const pct = obj.quotaPercent(b);
    const limit = [
      b.quota.maxSize ? formatBytes(b.quota.maxSize) : '',
      b.quota.maxObjects ? format(_('$0 objects'), b.quota.maxObjects) : '',
    ]
      .filter(Boolean)
      .join(' · ');
    return html`<tr data-bucket=${b.name}>
      <td>${b.name}</td>
      <td>${b.owner}</td>
      <td class="num">${b.usage.objects}</td>
      <td class="num">${formatBytes(b.usage.bytes)}</td>
      <td class="quota">
        ${
          pct === undefined
            ? html`<span class="muted">${_('none')}</span>`
            : html`<cal-progress label=${format(_('Quota of $0'), b.name)} .value=${pct} .description=${limit}></cal-progress>`
        }
      </td>
      <td>
        <button class="link" @click=${() => (this.grantBucket = b.name)}>${_('Grants')}</button>
        <button class="link danger" @click=${() => this.deleteBucket(b)}>${_('Delete')}</button>
      </td>
    </tr>`;
  }

  private async createBucket() {
    const name = val(this.shadowRoot, 'ob-bname');
    const owner = val(this.shadowRoot, 'ob-bowner');
    const problem = obj.bucketNameProblem(name);
    if (problem) {
      this.error = new Error(`${name}: ${_(problem)}`);
      return;
    }
    await this.act(() => obj.createBucket(this.client, name, owner), this.buckets);
  }

  private async deleteBucket(b: obj.Bucket) {
    const force = b.usage.objects > 0;
    const ok = await this.confirm.ask({
      title: format(_('Delete bucket $0?'), b.name),
      body: force
        ? format(
            _('It holds $0 objects ($1); they are deleted with it.'),
            b.usage.objects,
            formatBytes(b.usage.bytes),
          )
        : _('The bucket is empty.'),
      typeToConfirm: force ? b.name : undefined,
      action: _('Delete'),
      danger: true,
    });
    if (ok) await this.act(() => obj.deleteBucket(this.client, b.name, force), this.buckets);
  }

  private renderUsers() {
    const down = this.down();
    return html`<section class="card" aria-labelledby="ob-users">
      <h3 id="ob-users">${_('Users and keys')}</h3>
      ${renderTask(
        this.users,
        (items) =>
          items.length === 0
            ? html`<p class="empty" data-empty>${_('No users yet: a bucket needs an owner; add one below.')}</p>`
            : html`<table data-list="users">
              ${tableHead([_('User'), _('State'), _('Access keys')], true)}
              <tbody>
                ${items.map(
                  (u) => html`<tr data-user=${u.id}>
                    <td>${u.id} <span class="muted">${u.displayName}</span></td>
                    <td><span class=${u.suspended ? 'badge warn' : 'badge ok'}>${u.suspended ? _('suspended') : _('active')}</span></td>
                    <td>
                      ${u.keys.map(
                        (k) => html`<div data-key=${k.accessKey}>
                          <code>${k.accessKey}</code>
                          <button class="link" @click=${() => this.act(async () => this.showSecret(await obj.rotateKey(this.client, u.id, k.accessKey)), this.users)}>${_('Rotate')}</button>
                          <button class="link danger" @click=${() => this.act(() => obj.revokeKey(this.client, u.id, k.accessKey), this.users)}>${_('Revoke')}</button>
                        </div>`,
                      )}
                    </td>
                    <td>
                      <button class="link" @click=${() => this.act(async () => this.showSecret(await obj.createKey(this.client, u.id)), this.users)}>${_('New key')}</button>
                      <button class="link" @click=${() => this.act(() => obj.suspendUser(this.client, u.id, !u.suspended), this.users)}>
                        ${u.suspended ? _('Enable') : _('Suspend')}
                      </button>
                      <button class="link danger" @click=${() => this.act(() => obj.deleteUser(this.client, u.id), this.users)}>${_('Delete')}</button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>`,
        { quietUnavailable: true },
      )}
      <div class="row">
        <div class="field"><label for="ob-uid">${_('New user')}</label><input id="ob-uid" /></div>
        <div class="field"><label for="ob-uname">${_('Display name')}</label><input id="ob-uname" /></div>
        <button
          class="primary"
          data-action="create-user"
          ?disabled=${!!down}
          title=${down ?? nothing}
          @click=${() =>
            this.act(async () => {
              const id = val(this.shadowRoot, 'ob-uid');
              const r = await obj.createUser(this.client, id, val(this.shadowRoot, 'ob-uname') || id);
              this.showSecret(r.key);
            }, this.users)}
        >
          ${_('Create')}
        </button>
      </div>
    </section>`;
  }

  private renderGrants() {
    if (!this.grantBucket) return nothing;
    const bucket = this.grantBucket;
    return html`<section class="card" aria-labelledby="ob-grants">
      <h3 id="ob-grants">${format(_('Grants on $0'), bucket)}</h3>
      ${renderTask(this.grants, (items) =>
        items.length === 0
          ? html`<p class="empty">${_('Only the owner has access.')}</p>`
          : html`<ul data-list="grants">
              ${items.map(
                (g) => html`<li data-grant=${g.user}>
                  ${g.user}: ${_(g.access)}
                  <button class="link danger" @click=${() => this.act(() => obj.revokeGrant(this.client, bucket, g.user), this.grants)}>${_('Revoke')}</button>
                </li>`,
              )}
            </ul>`,
      )}
      <div class="row">
        <div class="field"><label for="ob-guser">${_('User')}</label><input id="ob-guser" /></div>
        <div class="field">
          <label for="ob-gaccess">${_('Access')}</label>
          <select id="ob-gaccess">
            <option value="read-only">${_('read-only')}</option>
            <option value="read-write">${_('read-write')}</option>
            <option value="write-only">${_('write-only')}</option>
          </select>
        </div>
        <button
          class="primary"
          @click=${() =>
            this.act(
              () =>
                obj.setGrant(this.client, {
                  bucket,
                  user: val(this.shadowRoot, 'ob-guser'),
                  access: val(this.shadowRoot, 'ob-gaccess') as obj.Access,
                }),
              this.grants,
            )}
        >
          ${_('Grant')}
        </button>
      </div>
    </section>`;
  }

  private renderMigration() {
    const j = this.migration;
    return html`<section class="card" aria-labelledby="ob-migrate">
      <h3 id="ob-migrate">${_('Migrate from another S3 server')}</h3>
      <p class="muted">${_('Objects that already arrived (same size and ETag) are not copied again: an aborted migration resumes.')}</p>
      <div class="row">
        <div class="field"><label for="ob-mend">${_('Endpoint')}</label><input id="ob-mend" placeholder="https://minio.example:9000" /></div>
        <div class="field"><label for="ob-mak">${_('Access key')}</label><input id="ob-mak" /></div>
        <div class="field"><label for="ob-msk">${_('Secret key')}</label><input id="ob-msk" type="password" autocomplete="off" /></div>
        <div class="field"><label for="ob-mown">${_('Local owner')}</label><input id="ob-mown" /></div>
        <button
          class="primary"
          ?disabled=${j !== undefined && !isFinal(j.state)}
          @click=${() =>
            this.act(async () => {
              this.migration = await obj.startMigration(this.client, {
                endpoint: val(this.shadowRoot, 'ob-mend'),
                accessKey: val(this.shadowRoot, 'ob-mak'),
                secretKey: val(this.shadowRoot, 'ob-msk'),
                owner: val(this.shadowRoot, 'ob-mown'),
              });
            })}
        >
          ${_('Start')}
        </button>
      </div>
      ${
        j
          ? html`${jobProgress(j, 'migration', _('Migration progress'), isFinal(j.state) ? `${_(j.state)} · ${j.progress.description}` : j.progress.description)}
            ${j.error ? html`<cal-error .error=${j.error}></cal-error>` : nothing}`
          : nothing
      }
    </section>`;
  }
}
