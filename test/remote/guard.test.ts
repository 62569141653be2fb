/** The forced command's check (agent/remote/guard.ts), on the command lines ssh delivers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkCommand,
  checkResumeToken,
  checkSettle,
  decodeTokenArgv,
  MAX_TOKEN,
  splitCommand,
} from '../../agent/remote/guard.js';
import { remoteCommandLine } from '../../agent/remote/ssh.js';
import { fixture } from '../zfs/fixtures.js';

const P = 'tank/backup';
const ok = (line: string) => {
  const d = checkCommand(line, P);
  assert.ok('argv' in d, `${line}: ${'refusal' in d ? d.refusal : ''}`);
  return d.argv;
};
const no = (line: string, why: RegExp) => {
  const d = checkCommand(line, P);
  assert.ok('refusal' in d, `${line} was allowed`);
  assert.match(d.refusal, why);
};

describe('the receiving side’s guard', () => {
  it('allows receive, the snapshot/GUID list, the resume token and its own holds under the prefix', () => {
    assert.deepEqual(ok('zfs receive -F -- tank/backup/a'), ['zfs', 'receive', '-F', '--', 'tank/backup/a']);
    ok('zfs receive -s -- tank/backup');
    ok('zfs list -H -t snapshot -o name,guid -d 1 -- tank/backup/a');
    ok('zfs get -H -o value receive_resume_token -- tank/backup/a');
    ok('zfs hold -- calypso-repl:t1 tank/backup/a@s1');
    ok('zfs release -- calypso-repl:t1 tank/backup/a@s1');
    ok('zfs list -H -o name -t filesystem,volume -r -- tank/backup/a');
    assert.deepEqual(ok('zfs destroy -- tank/backup/a@s1'), ['zfs', 'destroy', '--', 'tank/backup/a@s1']);
  });
  it('a key authorized to be pulled from may send snapshots under the prefix, by token only once decoded', () => {
    const pull = (line: string) => checkCommand(line, P, { send: true });
    assert.deepEqual(pull('zfs send -- tank/backup/a@s1'), {
      argv: ['zfs', 'send', '--', 'tank/backup/a@s1'],
    });
    assert.deepEqual(pull('zfs send -i tank/backup/a@s1 -- tank/backup/a@s2'), {
      argv: ['zfs', 'send', '-i', 'tank/backup/a@s1', '--', 'tank/backup/a@s2'],
    });
    const refused = (line: string, why: RegExp) => {
      const d = pull(line);
      assert.ok('refusal' in d, `${line} was allowed`);
      assert.match(d.refusal, why);
    };
    refused('zfs send -- tank/other@s1', /not a snapshot under/);
    refused('zfs send -i tank/other@s1 -- tank/backup/a@s2', /tank\/other@s1 is not a snapshot under/);
    refused('zfs send -- tank/backup/a', /not a snapshot under/);
    refused('zfs send -R -- tank/backup/a@s1', /only `zfs send/);
    // a token is syntax-checked here, then decoded by ZFS and its name checked (checkResumeToken)
    assert.deepEqual(pull('zfs send -t 1-abc-de-789c'), { resume: { token: '1-abc-de-789c' } });
    refused('zfs send -t 1-abc-de-789X', /only `zfs send -t <token>`/);
    refused('zfs send -t -- 1-abc-de-789c', /only `zfs send -t <token>`/);
    refused('zfs send -t 1-abc-de-789c tank/backup/a@s1', /only `zfs send -t <token>`/);
    refused(`zfs send -t 1-a-b-${'0'.repeat(MAX_TOKEN)}`, /at most 4096 characters/);
    no('zfs send -t 1-abc-de-789c', /not authorized to be pulled from/);
  });
  it('sends by token only when ZFS decodes it to a snapshot under the prefix (recorded zfs send -nvt)', () => {
    const T = '1-abc-de-789c';
    const lab = (f: string) => fixture('openzfs-2.1.11-lab-send-token', f);
    const decoded = (stdout: string) => ({ code: 0, stdout, stderr: '' });
    const sends = (out: ReturnType<typeof checkResumeToken>) => {
      assert.ok('argv' in out, 'refusal' in out ? out.refusal : '');
      assert.deepEqual(out.argv, ['zfs', 'send', '-t', T]);
    };
    const refused = (out: ReturnType<typeof checkResumeToken>, why: RegExp) => {
      assert.ok('refusal' in out, 'the token was sent');
      assert.match(out.refusal, why);
    };
    assert.deepEqual(decodeTokenArgv(T), ['zfs', 'send', '-nvt', T]);
    // the recordings' pool is `pa`: full, incremental (fromguid) and a zvol's token
    for (const f of ['zfs-send-nvt-full.txt', 'zfs-send-nvt-incremental.txt', 'zfs-send-nvt-volume.txt'])
      sends(checkResumeToken(T, decoded(lab(f)), 'pa'));
    sends(checkResumeToken(T, decoded(lab('zfs-send-nvt-full.txt')), 'pa/src'));
    // the same token for a key whose prefix is a sibling, or a name-prefix of it: refused
    refused(
      checkResumeToken(T, decoded(lab('zfs-send-nvt-full.txt')), 'pa/backup'),
      /the resume token sends pa\/src@s1, which is not a snapshot under pa\/backup/,
    );
    refused(
      checkResumeToken(T, decoded(lab('zfs-send-nvt-full.txt')), 'pa/sr'),
      /not a snapshot under pa\/sr/,
    );
    refused(checkResumeToken(T, decoded(lab('zfs-send-nvt-volume.txt')), 'pa/src'), /pa\/vol@v1/);
    // the lab's other recording (zfs send -nvP -t): a token of tank/calypso/db, outside backup/copy
    const other = fixture('openzfs-2.1.11-lab', 'zfs-send-nvP-resume.txt');
    refused(checkResumeToken(T, decoded(other), 'backup'), /tank\/calypso\/db@auto-20241109-0300/);
    sends(checkResumeToken(T, decoded(other), 'tank/calypso'));
    // ZFS could not decode it: its words
    for (const f of ['zfs-send-nvt-corrupt-checksum.stderr', 'zfs-send-nvt-invalid-format.stderr'])
      refused(
        checkResumeToken(T, { code: 255, stdout: '', stderr: lab(f) }, 'pa'),
        /could not decode the resume token.*resume token is corrupt/,
      );
    // two names (a crafted string value spanning lines), or none: refused
    const two = lab('zfs-send-nvt-full.txt').replace(
      'toname = pa/src@s1',
      'toname = tank/x@s\n\ttoname = pa/src@s1',
    );
    refused(checkResumeToken(T, decoded(two), 'pa'), /names 2 snapshots/);
    refused(checkResumeToken(T, decoded('nvlist version: 0\n'), 'pa'), /names no snapshot/);
    refused(checkResumeToken(T, decoded('\ttoname = pa/src\n'), 'pa'), /not a snapshot under pa/);
    refused(checkResumeToken('1-x', decoded(lab('zfs-send-nvt-full.txt')), 'pa'), /malformed/);
  });
  it('answers several reads, or moves several holds, in one call: only under the prefix, only its own tag', () => {
    assert.deepEqual(checkCommand('calypso state -- tank/backup/a tank/backup/a/b', P), {
      state: ['tank/backup/a', 'tank/backup/a/b'],
    });
    assert.deepEqual(
      checkCommand('calypso holds -- calypso-repl:t1 hold tank/backup/a@s2 release tank/backup/a@s1', P),
      {
        holds: {
          tag: 'calypso-repl:t1',
          ops: [
            { op: 'hold', snapshot: 'tank/backup/a@s2' },
            { op: 'release', snapshot: 'tank/backup/a@s1' },
          ],
        },
      },
    );
    no('calypso state -- tank/backup/a tank/other', /tank\/other is outside tank\/backup/);
    no('calypso state -- tank/backupX', /outside/);
    no('calypso state tank/backup/a', /must follow --/);
    no('calypso state --', /takes 1 to/);
    no(`calypso state -- ${Array(4097).fill('tank/backup/a').join(' ')}`, /takes 1 to 4096/);
    no('calypso state -- tank/backup/a@s1', /outside/);
    no('calypso holds -- mine hold tank/backup/a@s1', /calypso-repl:<task> tag/);
    no('calypso holds -- calypso-repl:t1 destroy tank/backup/a@s1', /hold\|release <snapshot> pairs/);
    no('calypso holds -- calypso-repl:t1 hold tank/backup/a', /not a snapshot under/);
    no('calypso holds -- calypso-repl:t1 hold tank/other@s1', /not a snapshot under/);
    no('calypso holds -- calypso-repl:t1 hold', /pairs/);
    no('calypso destroy -- tank/backup/a@s1', /only calypso state, holds, settle and drill-manifest/);
    no('calypso -- tank/backup/a', /not allowed/);
  });
  it('settle: compares then moves holds of its own datasets only; its input is checked', () => {
    assert.deepEqual(checkCommand('calypso settle -- calypso-repl:t1 tank/backup/a', P), {
      settle: { tag: 'calypso-repl:t1', datasets: ['tank/backup/a'] },
    });
    no('calypso settle -- calypso-repl:t1 tank/other', /outside/);
    no('calypso settle -- mine tank/backup/a', /calypso-repl:<task> tag/);
    const expect = [{ dataset: 'tank/backup/a', newest: 's2', snapshots: [{ snapshot: 's2', guid: '123' }] }];
    const good = { expect, ops: [{ op: 'hold', snapshot: 'tank/backup/a@s2' }] };
    assert.deepEqual(checkSettle(JSON.stringify(good), ['tank/backup/a']), good);
    const bad = (v: unknown, why: RegExp) => {
      const d = checkSettle(typeof v === 'string' ? v : JSON.stringify(v), ['tank/backup/a']);
      assert.ok('refusal' in d, JSON.stringify(v));
      assert.match(d.refusal, why);
    };
    bad('not json', /JSON/);
    bad({ expect, ops: [{ op: 'hold', snapshot: 'tank/backup/b@s2' }] }, /snapshots of tank\/backup\/a only/);
    bad({ expect, ops: [{ op: 'destroy', snapshot: 'tank/backup/a@s2' }] }, /only/);
    bad({ expect: [{ ...expect[0], dataset: 'tank/other' }], ops: [] }, /outside/);
    bad({ expect: [{ ...expect[0], snapshots: [{ snapshot: 's2', guid: '4.67E' }] }], ops: [] }, /malformed/);
    bad({ ops: [] }, /one per dataset/);
  });
  it('drill-manifest: one snapshot under the prefix and two bounds, nothing else', () => {
    assert.deepEqual(checkCommand('calypso drill-manifest -- tank/backup/a@s1 1000 1048576', P), {
      manifest: { snapshot: 'tank/backup/a@s1', limits: { maxFiles: 1000, maxBytes: 1048576 } },
    });
    no('calypso drill-manifest -- tank/other@s1 1000 1048576', /tank\/other@s1 is not a snapshot under/);
    no('calypso drill-manifest -- tank/backupX@s1 1000 1048576', /not a snapshot under/);
    no('calypso drill-manifest -- tank/backup/a 1000 1048576', /not a snapshot under/);
    no('calypso drill-manifest -- tank/backup/a@s1', /one snapshot, a file count/);
    no('calypso drill-manifest -- tank/backup/a@s1 0 1048576', /a file count \(at most 1000000\)/);
    no('calypso drill-manifest -- tank/backup/a@s1 1000001 1048576', /at most 1000000/);
    no('calypso drill-manifest -- tank/backup/a@s1 1000 -1', /byte count/);
    no('calypso drill-manifest -- tank/backup/a@s1 1000 10 tank/backup/b@s1', /one snapshot/);
    no('calypso drill-manifest tank/backup/a@s1 1000 10', /must follow --/);
    no('calypso drill-manifest -- tank/backup/a@s1 1000 1e9', /byte count/);
  });
  it('refuses everything else in plain words', () => {
    no('', /interactive session/);
    no('ls /', /ls is not allowed/);
    no('sh -c id', /sh is not allowed/);
    no('zfs destroy -r -- tank/backup/a', /option -r is not allowed/);
    no('zfs destroy -- tank/backup/a', /one snapshot under tank\/backup, never a filesystem/);
    no('zfs destroy -- tank/backup', /never a filesystem/);
    no('zfs destroy -- tank/other@s1', /never a filesystem/);
    no('zfs destroy -- tank/backup/a@s1 tank/backup/b@s1', /one snapshot/);
    no('zfs send -- tank/backup/a@s1', /not authorized to be pulled from/);
    no('zfs receive -- tank/other', /outside tank\/backup/);
    no('zfs receive -- tank/backupX', /outside/);
    no('zfs receive -d -- tank/backup/a', /option -d is not allowed/);
    no('zfs receive tank/backup/a', /must follow --/);
    no('zfs list -H -t snapshot -o name,guid -d 1 -- tank', /outside/);
    no('zfs list -H -o name -r -- tank/backup', /only `zfs list/);
    no('zfs release -- mine tank/backup/a@s1', /calypso-repl/);
    no('zfs receive -- tank/backup/a;reboot', /characters/);
    no("zfs receive -- 'tank/backup/a b'", /outside/);
    no('zfs receive -- $(id)', /characters/);
  });
  it('splits what remoteCommandLine joins', () => {
    const argv = ['zfs', 'receive', '--', 'tank/backup/a:b.c-d'];
    assert.deepEqual(splitCommand(remoteCommandLine(argv)), argv);
    assert.equal(splitCommand("a 'b"), undefined);
  });
});
