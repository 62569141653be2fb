/**
 * tgtd's management socket, spoken directly, for the one request that carries a secret:
 * creating a CHAP account (issue #28 item 8). tgtadm takes the password only as an argv
 * element, where any local user reads it in /proc/<pid>/cmdline (an unprivileged poller caught
 * 14 of 30); tgt-admin only builds that same tgtadm argv from its config file. So the agent
 * sends the request itself over the Unix socket tgtadm uses (`/var/run/tgtd/socket.<control
 * port>`, root only), and the secret never leaves this process except into that socket.
 *
 * The wire format, as tgtadm 1.0.85 (Debian 12) sends it (recorded from tgtadm talking to a
 * listening socket): a 120-byte little-endian header — mode, op, the driver name in 64 bytes,
 * the total length, tid, sid, lun, cid, host_no, device_type, ac_dir, pack, force — then the
 * parameters as one NUL-terminated `key=value,key=value` string. tgtd answers an 8-byte
 * header {err, len} and `len - 8` bytes of text. Values here are validated tokens and CHAP
 * secrets (no comma, `=` only inside the value, which tgtd splits on the first `=`).
 */
import net from 'node:net';
import { failed, unavailable } from '../../rpc/errors.js';

export const TGT_SOCKET_BASE = '/var/run/tgtd/socket';
const HEADER = 120;
const MODE_ACCOUNT = 7;
const OP_NEW = 0;

export interface TgtMgmtRequest {
  mode: number;
  op: number;
  /** key=value pairs (no comma in any of them) */
  params: [string, string][];
  tid?: number;
}

/** The bytes of one request (pure). */
export function encodeRequest(r: TgtMgmtRequest, lld = 'iscsi'): Buffer {
  for (const [k, v] of r.params)
    if (/[,\0]/.test(k + v) || k.includes('='))
      throw new Error(`tgt management parameter ${k} holds a character the protocol cannot carry`);
  const body = Buffer.from(`${r.params.map(([k, v]) => `${k}=${v}`).join(',')}\0`, 'utf8');
  const h = Buffer.alloc(HEADER);
  h.writeUInt32LE(r.mode, 0);
  h.writeUInt32LE(r.op, 4);
  h.write(lld, 8, 63, 'latin1');
  h.writeUInt32LE(HEADER + body.length, 72);
  h.writeInt32LE(r.tid ?? -1, 76);
  h.writeBigUInt64LE(0n, 80); // sid
  h.writeBigUInt64LE(0xffff_ffff_ffff_ffffn, 88); // lun: none
  // cid, host_no, device_type, ac_dir, pack, force: 0
  return Buffer.concat([h, body]);
}

/** The account-creation request: the secret is in the returned bytes only. */
export const accountNewRequest = (user: string, secret: string): TgtMgmtRequest => ({
  mode: MODE_ACCOUNT,
  op: OP_NEW,
  params: [
    ['user', user],
    ['password', secret],
  ],
});

/** Send one request to tgtd on `control`; resolves with its answer text, throws with tgtd's error code. */
export function tgtMgmt(
  control: number,
  r: TgtMgmtRequest,
  o: { timeoutMs?: number; socketBase?: string } = {},
): Promise<string> {
  const where = `${o.socketBase ?? TGT_SOCKET_BASE}.${control}`;
  const bytes = encodeRequest(r);
  return new Promise((resolve, reject) => {
    const sock = net.connect(where);
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(unavailable(`tgtd does not answer on its management socket ${where}`));
    }, o.timeoutMs ?? 15_000);
    let done = false;
    const finish = (err?: Error, text?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      bytes.fill(0); // the secret leaves memory with the request
      if (err) reject(err);
      else resolve(text ?? '');
    };
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got < 8) return;
      const all = Buffer.concat(chunks);
      const err = all.readUInt32LE(0);
      const len = all.readUInt32LE(4);
      if (len > 1 << 20) return finish(failed(`tgtd answered a ${len}-byte message`));
      if (got < len) return;
      const text = all.subarray(8, len).toString('utf8');
      if (err !== 0)
        finish(failed(`tgtd refused the request (tgtadm error ${err})${text ? `: ${text}` : ''}`));
      else finish(undefined, text);
    });
    sock.on('error', (e) => finish(unavailable(`tgtd's management socket ${where}: ${e.message}`)));
    sock.on('close', () => {
      if (got < 8) finish(unavailable(`tgtd closed its management socket ${where} without an answer`));
    });
  });
}
