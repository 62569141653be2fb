/**
 * The one secrets store (agent/secrets.ts) on a real file: concurrent writers keep each
 * other's keys, other lines stay verbatim, a key's comment goes with it (also the `# bacula:`
 * comments older agents wrote), a dry-run preview writes nothing, bad input changes nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SecretStore } from '../../agent/secrets.js';
import { tempDir } from '../helpers/paths.js';

const tmp = tempDir('calypso-secrets-');
after(() => tmp.cleanup());

describe('SecretStore', () => {
  it('40 writes at the same moment: every key survives', async () => {
    const file = path.join(tmp.dir, 'a.env');
    writeFileSync(file, '# header kept\nEXISTING=1\n');
    const s = SecretStore.load(file);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        s.update([{ key: `K_${i}`, value: `v${i}`, comment: `key ${i}` }]),
      ),
    );
    const text = readFileSync(file, 'utf8');
    for (let i = 0; i < 40; i++) assert.match(text, new RegExp(`^# K_${i}: key ${i}\\nK_${i}=v${i}$`, 'm'));
    assert.ok(text.startsWith('# header kept\nEXISTING=1\n'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(s.get('K_39'), 'v39');
  });

  it('deleting a key removes its comment, also an older agent’s `# bacula:` one; returns the previous values', async () => {
    const file = path.join(tmp.dir, 'b.env');
    writeFileSync(
      file,
      '# bacula: director ↔ client web\nBACULA_CLIENT_X_PASSWORD=old\n# NEW: n\nNEW=1\nKEEP=2\n',
    );
    const s = SecretStore.load(file);
    const prev = await s.update([
      { key: 'BACULA_CLIENT_X_PASSWORD', value: undefined },
      { key: 'NEW', value: undefined },
    ]);
    assert.deepEqual(prev, [
      { key: 'BACULA_CLIENT_X_PASSWORD', value: 'old' },
      { key: 'NEW', value: '1' },
    ]);
    assert.equal(readFileSync(file, 'utf8'), 'KEEP=2\n');
  });

  it('a preview is seen inside it only, and nothing is written', async () => {
    const file = path.join(tmp.dir, 'c.env');
    writeFileSync(file, 'A=1\n');
    const s = SecretStore.load(file);
    const inside = s.preview(
      [
        { key: 'A', value: undefined },
        { key: 'B', value: '2' },
      ],
      () => [s.get('A'), s.get('B')],
    );
    assert.deepEqual(inside, [undefined, '2']);
    assert.deepEqual([s.get('A'), s.get('B')], ['1', undefined]);
    assert.equal(readFileSync(file, 'utf8'), 'A=1\n');
  });

  it('refuses a newline in a value or a bad key, and changes nothing', async () => {
    const file = path.join(tmp.dir, 'd.env');
    writeFileSync(file, 'A=1\n');
    const s = SecretStore.load(file);
    assert.throws(() => s.update([{ key: 'A', value: 'x\nB=2' }]), /newline/);
    assert.throws(() => s.update([{ key: 'A=B', value: 'x' }]), /invalid key/);
    assert.equal(readFileSync(file, 'utf8'), 'A=1\n');
  });
});
