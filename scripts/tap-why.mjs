// What a failed test file said: scripts/test.mjs prints it again at the end of a run.

/**
 * The `not ok` lines of a file's TAP with their YAML blocks (error, location, stack), innermost
 * first as TAP prints them: at most 40 lines per failure and 6,000 characters in all.
 */
export function whyFailed(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*not ok \d+/.test(lines[i])) continue;
    const block = [lines[i]];
    for (let j = i + 1; j < lines.length && block.length < 40; j++) {
      block.push(lines[j]);
      if (/^\s*\.\.\.\s*$/.test(lines[j])) break;
    }
    out.push(block.join('\n'));
  }
  const text = out.join('\n');
  return text.length > 6000 ? `${text.slice(0, 6000)}\n   … (cut; the file's whole output is above)` : text;
}
