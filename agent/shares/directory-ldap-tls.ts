/**
 * TLS to the LDAP directory (issue #26): the CA the directory's certificate must chain to, given
 * as PEM text or the path of a PEM file and kept as node re-encodes it (nothing of the client's
 * text but the certificate reaches a rendered file), and the handshake check — ldaps:// or
 * StartTLS (the LDAP extended operation 1.3.6.1.4.1.1466.20037) — that verifies the server's
 * certificate against it and names what is wrong in plain words.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../rpc/errors.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

export const CaCertInputSchema = Type.String({
  minLength: 1,
  maxLength: 65_536,
  pattern: '^(/[A-Za-z0-9._/-]{1,4095}|-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s-]+)$',
  description:
    'the CA the directory’s certificate must chain to: PEM text (-----BEGIN CERTIFICATE-----…) or the absolute path of a PEM file',
});

/** The CA certificates of PEM text or a PEM file, re-encoded by node; `invalid` with the reason otherwise. */
export async function caPemOf(input: string): Promise<string> {
  let text = input;
  if (input.startsWith('/')) {
    try {
      text = await readFile(input, 'utf8');
    } catch (e) {
      throw invalid(
        `caCert: cannot read ${input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (!blocks.length) throw invalid('caCert: no PEM certificate (-----BEGIN CERTIFICATE-----) in it');
  return blocks
    .map((b, i) => {
      let c: X509Certificate;
      try {
        c = new X509Certificate(b);
      } catch (e) {
        throw invalid(
          `caCert: certificate ${i + 1} is not a valid X.509 certificate: ${(e as Error).message}`,
        );
      }
      if (!c.ca)
        throw invalid(`caCert: certificate ${i + 1} (${c.subject.replace(/\n/g, ', ')}) is not a CA`);
      return c.toString();
    })
    .join('');
}

/** What node's TLS says about a certificate, in an administrator's words. */
export function certProblem(code: string | undefined, message: string): string {
  const words: Record<string, string> = {
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server’s certificate is not signed by the configured CA',
    UNABLE_TO_GET_ISSUER_CERT: 'the server’s certificate is not signed by the configured CA',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server’s certificate is not signed by the configured CA',
    SELF_SIGNED_CERT_IN_CHAIN: 'the server’s certificate chains to a CA that is not the configured one',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'the server’s certificate is self-signed, not issued by the configured CA',
    CERT_HAS_EXPIRED: 'the server’s certificate has expired',
    CERT_NOT_YET_VALID: 'the server’s certificate is not valid yet (check the clock)',
    ERR_TLS_CERT_ALTNAME_INVALID: 'the server’s certificate is not for this host name',
  };
  const w = code ? words[code] : undefined;
  return w ? `${w} (${code})` : message;
}

/** The LDAP StartTLS extended request (message id 1), BER. */
const START_TLS = Buffer.concat([
  Buffer.from([0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16]),
  Buffer.from('1.3.6.1.4.1.1466.20037', 'ascii'),
]);

export interface TlsCheck {
  /** where to connect */
  host: string;
  /** the name the certificate must be for (default: host) */
  name?: string;
  port: number;
  startTls: boolean;
  /** PEM of the CA; none: the system's CAs */
  ca?: string;
  timeoutMs?: number;
}

/** A certificate problem (not a network one): refused words. */
export class CertError extends Error {}

/** Handshake with the server and verify its certificate; resolves with what it verified. */
export function checkTls(o: TlsCheck): Promise<string> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: o.host, port: o.port });
    const timer = setTimeout(() => {
      raw.destroy();
      reject(new Error(`no TLS handshake with ${o.host}:${o.port} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const done = (err: Error | undefined, detail?: string) => {
      clearTimeout(timer);
      raw.destroy();
      if (err) reject(err);
      else resolve(detail as string);
    };
    raw.once('error', (e) =>
      done(new Error(`${o.host}:${o.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)),
    );
    const handshake = () => {
      const name = o.name ?? o.host;
      const s = tls.connect({
        socket: raw,
        ...(net.isIP(name) ? {} : { servername: name }),
        ...(o.ca ? { ca: o.ca } : {}),
        rejectUnauthorized: true,
        // an address is checked against the certificate's IP entries, a name against its DNS ones
        checkServerIdentity: (_h, cert) => tls.checkServerIdentity(name, cert),
      });
      s.once('secureConnect', () => {
        const c = s.getPeerCertificate();
        const who = c?.subject?.CN ?? 'the server';
        const by = c?.issuer?.CN ?? 'its issuer';
        s.end();
        done(undefined, `certificate of ${who} verified (issued by ${by})`);
      });
      s.once('error', (e) => {
        const code = (e as NodeJS.ErrnoException).code;
        const cert = code && code !== 'ECONNRESET' && !code.startsWith('EPIPE');
        done(cert ? new CertError(certProblem(code, e.message)) : new Error(e.message));
      });
    };
    raw.once('connect', () => {
      if (!o.startTls) return handshake();
      raw.write(START_TLS);
      raw.once('data', (b: Buffer) => {
        // ExtendedResponse: its resultCode is the first ENUMERATED (0x0a 0x01 <code>)
        const i = b.indexOf(Buffer.from([0x0a, 0x01]));
        const code = i >= 0 ? b[i + 2] : undefined;
        if (code !== 0)
          return done(new Error(`the server refused StartTLS (result ${code ?? 'unreadable'})`));
        handshake();
      });
    });
  });
}
