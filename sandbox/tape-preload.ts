/** Compiles test/tape-emu/preload.c (the tape emulation's LD_PRELOAD shim) into a shared object under the caller's directory (never committed). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './paths.js';

export function buildPreload(outDir: string): string {
  const src = path.join(repoRoot(), 'test', 'tape-emu', 'preload.c');
  const out = path.join(outDir, 'tape-emu-preload.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-Wall', '-o', out, src, '-liscsi', '-ldl'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return out;
}
