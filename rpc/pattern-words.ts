/**
 * A string pattern in plain words, for refusals of schemas that carry no `errorMessage` of their
 * own: a person reads "may contain only letters, digits and _ . -, starting with a letter or
 * digit, 1 to 64 characters", never the regular expression. Most of the API's identifier
 * patterns have one of a few simple shapes (a character class, optionally a different first
 * character, with a length); those are described exactly. Anything else gets a sentence that
 * says where the accepted form and an example are, without the pattern's text.
 */

const NAMED: [RegExp, string][] = [
  [/^A-Za-z0-9$|^a-zA-Z0-9$|^A-Za-z\\d$/, 'letters and digits'],
  [/^A-Za-z$|^a-zA-Z$/, 'letters'],
  [/^a-z0-9$/, 'small letters and digits'],
  [/^A-Z0-9$/, 'capital letters and digits'],
  [/^0-9a-f$|^a-f0-9$/, 'hexadecimal digits (0-9, a-f)'],
  [/^0-9a-fA-F$|^0-9A-Fa-f$|^a-fA-F0-9$/, 'hexadecimal digits'],
  [/^0-9$|^\\d$/, 'digits'],
  [/^a-z$/, 'small letters'],
  [/^\\x21-\\x7e$/, 'printable characters without spaces'],
];

const SINGULAR: Record<string, string> = {
  letters: 'a letter',
  'small letters': 'a small letter',
  'capital letters': 'a capital letter',
  digits: 'a digit',
};

/**
 * `[A-Za-z0-9_.-]` → "letters, digits and _ . -"; with `one`, what a single character may be:
 * "a letter, a digit or _" (undefined for what it cannot say).
 */
export function classWords(cls: string, one = false): string | undefined {
  if (cls.startsWith('^')) return undefined;
  if (!one) for (const [re, words] of NAMED) if (re.test(cls)) return words;
  const parts: string[] = [];
  let rest = cls;
  const take = (re: RegExp, words: string) => {
    if (re.test(rest)) {
      rest = rest.replace(re, '');
      parts.push(words);
    }
  };
  take(/A-Za-z|a-zA-Z/, 'letters');
  take(/a-z/, 'small letters');
  take(/A-Z/, 'capital letters');
  take(/0-9|\\d/, 'digits');
  if (/\\[a-zA-Z]|\w-\w/.test(rest)) return undefined; // \s, \x…, ranges not named above
  const singles = [...rest.replace(/\\(.)/g, '$1')].map((c) => (c === ' ' ? 'space' : c));
  if (one) {
    const all = [...parts.map((p) => SINGULAR[p] ?? p), ...singles];
    return all.length === 1 ? all[0] : `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
  }
  if (singles.length) parts.push(singles.join(' '));
  if (!parts.length) return undefined;
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

function lengthWords(min: number, max: number | undefined): string {
  if (max === undefined) return min <= 1 ? '' : `, at least ${min} characters`;
  if (min === max) return `, exactly ${min} characters`;
  return `, ${Math.max(min, 1)} to ${max} characters`;
}

/**
 * The rule of a pattern in words, or undefined when the pattern has no simple shape.
 * `minLength`/`maxLength` of the schema narrow what the pattern allows.
 */
export function patternWords(pattern: string, minLength?: number, maxLength?: number): string | undefined {
  // ^[^…]*$ / ^[^…]+$: characters that may not appear
  const neg = /^\^\[\^([^\]]+)\]([*+])\$$/.exec(pattern);
  if (neg) {
    const banned = neg[1]!;
    if (/\\x00-\\x1f/.test(banned)) return 'may not contain control characters (line breaks, tabs, NUL)';
    const list = [...banned.replace(/\\(.)/g, '$1')].map((c) => (c === ' ' ? 'spaces' : c));
    return `may not contain ${list.join(' ')}`;
  }
  if (pattern === '^/') return 'is an absolute path: it starts with /';
  if (pattern === '^[^\\s@]+@[^\\s@]+$') return 'is an address such as name@example.com';
  if (/^\^https\?:\/\//.test(pattern)) return 'is a URL that starts with http:// or https://';
  // ^[first][rest]{m,n}$, ^[first][rest]*$, ^[cls]{m,n}$, ^[cls]+$
  const m = /^\^(?:\[([^\]]+)\])?\[([^\]]+)\](?:\{(\d+)(?:,(\d+))?\}|([*+]))\$$/.exec(pattern);
  if (!m) return undefined;
  const [, first, cls, lo, hi, star] = m;
  const restWords = classWords(cls!);
  if (!restWords) return undefined;
  const firstWords = first ? classWords(first, true) : undefined;
  if (first && !firstWords) return undefined;
  const extra = first ? 1 : 0;
  let min = star === '*' ? 0 : star === '+' ? 1 : Number(lo);
  let max = star ? undefined : hi !== undefined ? Number(hi) : Number(lo);
  min += extra;
  if (max !== undefined) max += extra;
  if (minLength !== undefined) min = Math.max(min, minLength);
  if (maxLength !== undefined) max = max === undefined ? maxLength : Math.min(max, maxLength);
  const start = first && classWords(first) !== restWords ? `, starting with ${firstWords}` : '';
  return `may contain only ${restWords}${start}${lengthWords(min, max)}`;
}

/** The sentence for a refused pattern: its rule in words, or where the form is described. */
export function patternRefusal(pattern: string, minLength?: number, maxLength?: number): string {
  return (
    patternWords(pattern, minLength, maxLength) ??
    'is not in the form this parameter accepts (`calypsoctl describe METHOD` shows the form and an example)'
  );
}
