/**
 * NDJSON framing: one JSON text per line. A stream channel hands over arbitrary chunks (the
 * bridge forwards a large answer in pieces of a few KiB), so a line may arrive in many pieces
 * and one chunk may hold many lines. Pieces of an unfinished line are kept in a list and
 * joined once its newline arrives: re-scanning a growing string for every piece would make a
 * megabyte answer cost quadratic time.
 */
export class LineSplitter {
  private parts: string[] = [];
  private partsLength = 0;

  /** Feed a chunk; returns the complete lines it finished (without the newline). */
  push(chunk: string): string[] {
    let nl = chunk.indexOf('\n');
    if (nl < 0) {
      if (chunk) {
        this.parts.push(chunk);
        this.partsLength += chunk.length;
      }
      return [];
    }
    const lines: string[] = [];
    this.parts.push(chunk.slice(0, nl));
    lines.push(this.parts.join(''));
    this.parts = [];
    this.partsLength = 0;
    let start = nl + 1;
    nl = chunk.indexOf('\n', start);
    while (nl >= 0) {
      lines.push(chunk.slice(start, nl));
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) {
      this.parts.push(chunk.slice(start));
      this.partsLength = chunk.length - start;
    }
    return lines.filter((l) => l.trim() !== '');
  }

  reset(): void {
    this.parts = [];
    this.partsLength = 0;
  }

  /** Characters of an unfinished line held back. */
  get pending(): number {
    return this.partsLength;
  }
}
