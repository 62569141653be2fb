/**
 * `smbstatus --json` parsed from output recorded here (test/fixtures/smbstatus/samba-4.17: a guest holding
 * a file open on a share, and an idle smbd), and the metrics families it feeds. The same reader on a real
 * smbd with a real smbclient holding a file open is in test/shares/smb.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sessionsView } from '../../agent/shares/methods-sessions.js';
import { sharesMetrics } from '../../agent/shares/metrics.js';
import { parseSmbstatusJson } from '../../agent/shares/parse-smbstatus.js';
import { repoRoot } from '../helpers/paths.js';
import { seriesOf } from './smb-lab.js';

const rec = (name: string) =>
  readFileSync(path.join(repoRoot(), 'test/fixtures/smbstatus/samba-4.17', name), 'utf8');

describe('smbstatus --json (Samba 4.17, recorded)', () => {
  it('a guest session, its tree connect and its open file', () => {
    const s = parseSmbstatusJson(rec('json-guest-session-open-file.json'));
    assert.deepEqual(
      s.sessions.map((x) => [x.user, x.machine, x.dialect]),
      [['nobody', '127.0.0.1', 'SMB3_11']],
    );
    assert.deepEqual(s.tcons, [{ share: 'pub', machine: '127.0.0.1' }]);
    assert.equal(s.opens.length, 1);
    assert.equal(s.opens[0]!.file, 'f.txt');
    assert.match(s.opens[0]!.sharePath, /\/srv\/calypso\/shares\/pub$/);
  });

  it('an idle smbd: empty tables; output that is not smbstatus --json is refused', () => {
    assert.deepEqual(parseSmbstatusJson(rec('json-idle.json')), { sessions: [], tcons: [], opens: [] });
    assert.throws(() => parseSmbstatusJson('{"version": "4.17"}'), /no "sessions" table/);
    assert.throws(() => parseSmbstatusJson('Samba version 4.17.12-Debian\nPID Username'));
  });

  it('the metrics families: sessions, connections and open files per share (by the share’s directory)', async () => {
    const status = parseSmbstatusJson(rec('json-guest-session-open-file.json'));
    const [src] = sharesMetrics(async () => ({ status, shareOf: (d) => (d.endsWith('/pub') ? 'pub' : d) }));
    assert.deepEqual(await seriesOf(src!), {
      calypso_shares_smb_sessions: [[{}, 1]],
      calypso_shares_smb_connections: [[{ share: 'pub' }, 1]],
      calypso_shares_smb_open_files: [[{ share: 'pub' }, 1]],
    });
  });

  it('shares.sessions’ view: each session with its shares, clients and open files per share, a uid named', () => {
    const status = parseSmbstatusJson(rec('json-guest-session-open-file.json'));
    const shareOf = (d: string) => (d.endsWith('/pub') ? 'pub' : d);
    assert.deepEqual(sessionsView(status, shareOf), {
      sessions: [
        {
          id: status.sessions[0]!.id,
          user: 'nobody',
          machine: '127.0.0.1',
          dialect: 'SMB3_11',
          shares: ['pub'],
        },
      ],
      shares: [{ share: 'pub', clients: 1, openFiles: 1 }],
    });
    // smbstatus shows a uid it cannot resolve (accounts only the agent's backend knows): named from it
    const byUid = { ...status, sessions: status.sessions.map((x) => ({ ...x, user: '61001' })) };
    assert.equal(sessionsView(byUid, shareOf, new Map([[61001, 'alice']])).sessions[0]!.user, 'alice');
    assert.equal(sessionsView(byUid, shareOf).sessions[0]!.user, '61001', 'unknown: left as it is');
    assert.deepEqual(sessionsView(parseSmbstatusJson(rec('json-idle.json')), shareOf), {
      sessions: [],
      shares: [],
    });
  });
});
