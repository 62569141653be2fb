/** The `object` slice of calypso.yaml: defaults, values, and what it refuses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, configOf, configSchemaWith, parseConfig } from '../../agent/config.js';
import { objectConfigSlice } from '../../agent/object/config.js';

const schema = configSchemaWith([objectConfigSlice]);
const parse = (text: string) => configOf(parseConfig(text, 'calypso.yaml', schema), objectConfigSlice);

test('defaults: the local RGW on loopback, TLS when the appliance has a certificate', () => {
  const c = parse('');
  assert.equal(c.backend, 'rgw');
  assert.equal(c.address, '127.0.0.1');
  assert.equal(c.port, 7480);
  assert.equal(c.tls, 'auto');
  assert.equal(c.ceph.conf, '/etc/ceph/ceph.conf');
  assert.equal(c.ceph.gatewayName, 'client.rgw.calypso');
  assert.equal(c.adminUser, 'calypso-admin');
});

test('values, and refusals with file and line', () => {
  const c = parse(
    'object:\n  backend: external-rgw\n  external: https://rgw.example:443\n  ceph:\n    conf: /srv/ceph/other.conf\n',
  );
  assert.equal(c.backend, 'external-rgw');
  assert.equal(c.external, 'https://rgw.example:443');
  assert.equal(c.ceph.conf, '/srv/ceph/other.conf');
  for (const bad of [
    'object:\n  backend: s3fs\n',
    'object:\n  address: "127.0.0.1 --rgw_dns_name x"\n',
    'object:\n  port: 0\n',
    'object:\n  adminUser: "-x"\n',
    'object:\n  ceph:\n    gatewayName: "rgw.calypso"\n',
    'object:\n  secretKey: "no secrets here"\n',
  ])
    assert.throws(() => parse(bad), ConfigError, bad);
});
