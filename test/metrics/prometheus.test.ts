/**
 * The Prometheus endpoint with real components: a pool on zfs-fuse, the agent's /metrics on its
 * WebSocket listener, `promtool check metrics` on what it serves, and Debian's `prometheus`
 * scraping it with a bearer token — a PromQL query over its HTTP API must give the pool's
 * allocated bytes as `pool.list` reports them. Without a token or with a bad one: 401.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alertsSubsystem } from '../../agent/alerts/service.js';
import { metricsSubsystem } from '../../agent/metrics/service.js';
import { waitUntil } from '../../agent/util/time.js';
import { createZfsService } from '../../agent/zfs/service.js';
import { freePorts } from '../backup/lab.js';
import { startTestAgent, type TestAgent } from '../helpers/agent.js';
import { destroyPools, FAST, poolName, useZfsFuse, vdevFiles } from '../zfs/helpers.js';

const services = [createZfsService(FAST), alertsSubsystem, metricsSubsystem];

function promtool(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => {
      out += b;
    });
    p.stderr.on('data', (b) => {
      out += b;
    });
    p.once('error', reject);
    p.once('close', (code) => resolve({ code: code ?? -1, out }));
    p.stdin.end(text);
  });
}

describe('Prometheus metrics', () => {
  let fuse: Awaited<ReturnType<typeof useZfsFuse>> | undefined;
  let t: TestAgent;
  let base: string;
  let token: string;
  let prom: ChildProcess | undefined;
  const name = poolName('m');

  before(async () => {
    fuse = await useZfsFuse();
    // one reading serves every scrape of the test: each reading lists all of zfs-fuse's datasets,
    // and a `zfs list` every second made another test's destroy of a fresh clone fail "busy"
    t = await startTestAgent({
      services,
      config: { agent: { websocket: { port: 0 } }, metrics: { cacheMs: 60_000 } },
    });
    const where = await t.agent.listen();
    base = (where.websocket ?? '').replace(/^ws:/, 'http:').replace(/\/[^/]*$/, '');
    const files = vdevFiles(path.join(t.prefix, 'vdevs'), ['a.img'], 128 * 1024 * 1024);
    await t.call('pool.create', {
      name,
      topology: { data: [{ type: 'stripe', disks: files }] },
      altroot: path.join(t.prefix, 'mnt'),
    });
    token = (await t.call<{ token: string }>('auth.token.create', { name: 'prometheus', role: 'auditor' }))
      .token;
  });

  async function stopPrometheus() {
    if (prom && prom.exitCode === null && prom.signalCode === null) {
      const gone = new Promise((r) => prom?.once('exit', r));
      prom.kill('SIGTERM');
      await gone;
    }
  }

  after(async () => {
    await stopPrometheus();
    await destroyPools([name]);
    await t?.stop();
    await fuse?.release();
  });

  it('serves the text format that promtool accepts, with the pool and the RPC figures', async () => {
    await t.call('pool.list');
    const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const check = await promtool(text);
    assert.equal(check.code, 0, check.out);
    assert.match(text, new RegExp(`calypso_zfs_pool_allocated_bytes\\{pool="${name}"\\} \\d+`));
    assert.match(text, new RegExp(`calypso_zfs_pool_health\\{pool="${name}",state="ONLINE"\\} 1`));
    assert.match(text, /calypso_rpc_requests_total\{method="pool.list",outcome="ok"\} [1-9]/);
    assert.match(text, /calypso_rpc_duration_seconds_bucket\{le="0.001",method="pool.list"\}/);
    assert.match(text, /calypso_process_resident_memory_bytes \d+/);
    assert.match(text, /calypso_zfs_datasets\{type="filesystem"\} [1-9]/);
    // promtool is not a rubber stamp: a broken exposition fails it
    const broken = await promtool('calypso_bad_metric{pool="x" 1\n');
    assert.notEqual(broken.code, 0);
  });

  it('refuses a scraper without a valid token', async () => {
    const none = await fetch(`${base}/metrics`);
    assert.equal(none.status, 401);
    assert.doesNotMatch(await none.text(), /calypso_/);
    const bad = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.status, 401);
  });

  it('a real Prometheus scrapes it; PromQL gives the pool’s allocated bytes as pool.list does', async () => {
    const [webPort] = await freePorts(1);
    const dir = path.join(t.prefix, 'prometheus');
    const target = new URL(base).host;
    const cfg = path.join(t.prefix, 'prometheus.yml');
    writeFileSync(
      cfg,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: calypso',
        '    metrics_path: /metrics',
        '    authorization:',
        '      type: Bearer',
        `      credentials: ${token}`,
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    prom = spawn(
      'prometheus',
      [
        `--config.file=${cfg}`,
        `--storage.tsdb.path=${dir}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    const q = `calypso_zfs_pool_allocated_bytes{pool="${name}"}`;
    const url = `http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(q)}`;
    const got = await waitUntil(
      async () => {
        try {
          const r = (await (await fetch(url)).json()) as {
            data: { result: { value: [number, string] }[] };
          };
          const v = r.data.result[0]?.value[1];
          if (v === undefined) return undefined;
          const pools = (await t.call<{ items: { name: string; allocated: number }[] }>('pool.list')).items;
          const want = pools.find((p) => p.name === name)?.allocated;
          return Number(v) === want ? { v: Number(v), want } : undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'prometheus to scrape the pool' },
    );
    assert.ok(got.v > 0);
    const up = (await (
      await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent('up{job="calypso"}')}`)
    ).json()) as { data: { result: { value: [number, string] }[] } };
    assert.equal(up.data.result[0]?.value[1], '1');
    // stop scraping as soon as it has been seen (no longer than needed next to other tests)
    await stopPrometheus();
  });
});
