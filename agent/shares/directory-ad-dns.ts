/**
 * The DNS step of an Active Directory join: the domain's DCs from the SRV records a Windows
 * client asks for (`_ldap._tcp.dc._msdcs.<realm>`), through the configured DNS server or the
 * system's. Its own module so that a test can run the very same lookup inside the DC's network
 * namespace.
 */
import { Resolver } from 'node:dns/promises';

export interface SrvTarget {
  name: string;
  port: number;
}

export type ResolveSrv = (name: string, server?: string) => Promise<SrvTarget[]>;

export const dcSrvName = (realm: string) => `_ldap._tcp.dc._msdcs.${realm.toLowerCase()}`;

/** SRV records of `name`; throws the resolver's error (ENOTFOUND, ESERVFAIL, ETIMEOUT). */
export const resolveSrv: ResolveSrv = async (name, server) => {
  const r = new Resolver({ timeout: 3000, tries: 2 });
  if (server) r.setServers([server]);
  const got = await r.resolveSrv(name);
  return got.map((x) => ({ name: x.name, port: x.port }));
};

/** Plain words for a resolver's error code. */
export function dnsProblem(code: string | undefined): string {
  switch (code) {
    case 'ENOTFOUND':
    case 'ENODATA':
      return 'no such record';
    case 'ESERVFAIL':
      return 'the DNS server does not know the domain (SERVFAIL)';
    case 'EREFUSED':
      return 'the DNS server refused the query';
    case 'ETIMEOUT':
    case 'ECONNREFUSED':
      return 'the DNS server does not answer';
    default:
      return code ?? 'failed';
  }
}
