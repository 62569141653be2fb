/**
 * iSCSI names (RFC 3720 §3.2.6): `iqn.YYYY-MM.reversed.domain[:unique]` or `eui.` + 16 hex.
 * Checked before anything reaches tgtadm argv or a rendered scst.conf / targets file, so the
 * pattern admits no space, quote, brace, newline or shell metacharacter.
 */
import { Type } from '@sinclair/typebox';

export const IQN_PATTERN =
  '^(iqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9][a-z0-9.:-]*)?|eui\\.[0-9A-F]{16})$';

export const IqnSchema = Type.String({
  pattern: IQN_PATTERN,
  maxLength: 223,
  description: 'iSCSI name (RFC 3720): iqn.YYYY-MM.reversed.domain[:id] in lower case, or eui.<16 hex>',
  errorMessage:
    'an IQN looks like iqn.2026-12.com.example:name (iqn., year-month, the reversed domain in small letters, then : and a name), or eui. and 16 hex digits',
  examples: ['iqn.2026-12.com.example:backup'],
});

const re = new RegExp(IQN_PATTERN);
export function isIqn(s: string): boolean {
  return s.length <= 223 && re.test(s);
}
