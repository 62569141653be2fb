/**
 * Nesting depth of a JSON text, measured while scanning the text, before it is parsed (issue
 * #15 item 7): a 3 MB line nested a million deep cost about a second of JSON.parse before the
 * depth check ran on the parsed value. One pass over the characters, skipping string contents
 * (escapes included); stops at the first bracket beyond `max`. Invalid JSON is not judged here:
 * JSON.parse does that afterwards, on texts that are shallow enough.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const OPEN_ARR = 0x5b;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;

/** True when the text nests arrays/objects deeper than `max`. */
export function deeperThan(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // skip to the closing quote; a backslash escapes the next character
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      depth--;
    }
  }
  return false;
}
