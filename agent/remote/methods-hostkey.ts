/**
 * remote.hostkey: what host key a remote shows now, before pairing, so that a person can compare
 * its fingerprint with the one the other appliance prints and pass it to remote.pair
 * (hostKeyFingerprint), which then refuses any other key (the Cockpit pair dialog does this).
 */
import { Type } from '@sinclair/typebox';
import { failed } from '../../rpc/errors.js';
import { defineMethod } from '../../rpc/registry.js';
import type { RemoteContext } from './context.js';
import { Host } from './model.js';
import { fingerprint, keyscanArgv, parseKeyscan } from './ssh.js';

export function hostKeyMethods(x: RemoteContext) {
  const { deps } = x;
  return [
    defineMethod({
      name: 'remote.hostkey',
      summary: 'The ed25519 host key a remote shows now (ssh-keyscan), to confirm before remote.pair',
      description:
        'Nothing is pinned or stored: pass the fingerprint to remote.pair as hostKeyFingerprint once it ' +
        'matches what the other appliance shows (ssh-keygen -lf on its host key).',
      params: Type.Object(
        {
          host: Host,
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'default 22' })),
        },
        { additionalProperties: false },
      ),
      result: Type.Object({
        host: Type.String(),
        port: Type.Integer(),
        hostKey: Type.String({ description: 'the known_hosts line ssh-keyscan answered' }),
        hostKeyFingerprint: Type.String({ description: 'SHA256:… of the host key' }),
      }),
      role: 'operator',
      mutating: false,
      handler: async (p, ctx) => {
        const target = { host: p.host, port: p.port ?? 22, user: 'root' };
        const scan = await deps.runner
          .run(keyscanArgv(target), { timeoutMs: 20_000, signal: ctx.signal, okCodes: [0, 1] })
          .catch((e: Error) => {
            throw failed(`ssh-keyscan of ${p.host}:${target.port} failed: ${e.message}`);
          });
        const hostKey = parseKeyscan(scan.stdout)[0];
        if (!hostKey)
          throw failed(
            `no ed25519 host key answered at ${p.host}:${target.port} (is sshd listening there?)`,
            {
              stderr: scan.stderr.slice(-500),
            },
          );
        return {
          host: p.host,
          port: target.port,
          hostKey,
          hostKeyFingerprint: fingerprint(hostKey.split(' ')[2]!),
        };
      },
    }),
  ];
}
