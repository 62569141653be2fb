/**
 * `calypsoctl changer parse FILE [--json]`: what the agent derives from a saved `mtx status`
 * output, offline (support reads a customer's capture without an agent). The JSON shape is
 * published: `{drives: [{index, full, volumeTag?, sourceSlot?}], slots: [{index, full,
 * volumeTag?, importExport}]}`; drives from 0, slots from 1, mailslots numbered after the
 * storage slots as mtx does. Keep it stable.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseMtxStatus, publicStatus } from '../agent/tape/parse-mtx-status.js';

export function renderChangerText(s: ReturnType<typeof publicStatus>): string {
  const lines = ['DRIVE  STATE  TAG       FROM'];
  for (const d of s.drives)
    lines.push(
      `${String(d.index).padEnd(5)}  ${(d.full ? 'full' : 'empty').padEnd(5)}  ${(d.volumeTag ?? '-').padEnd(8)}  ${d.sourceSlot ?? '-'}`,
    );
  lines.push('', 'SLOT   STATE  TAG       MAILSLOT');
  for (const x of s.slots)
    lines.push(
      `${String(x.index).padEnd(5)}  ${(x.full ? 'full' : 'empty').padEnd(5)}  ${(x.volumeTag ?? '-').padEnd(8)}  ${x.importExport ? 'yes' : ''}`.trimEnd(),
    );
  return `${lines.join('\n')}\n`;
}

export async function changerParse(file: string, json: boolean): Promise<string> {
  const s = publicStatus(parseMtxStatus(await readFile(file, 'utf8')));
  return json ? `${JSON.stringify(s, null, 2)}\n` : renderChangerText(s);
}

export function registerChangerCommands(
  program: Command,
  write: (text: string) => void = (t) => void process.stdout.write(t),
): void {
  const changer = program.command('changer').description('tape changers (medium changers)');
  changer
    .command('parse')
    .description('parse a saved `mtx status` output offline and print the drives and slots')
    .argument('<FILE>', 'file holding the output of `mtx -f DEVICE status`')
    .option('--json', 'print JSON: {drives: [...], slots: [...]}')
    .action(async (file: string, _o: { json?: boolean }, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals().json);
      write(await changerParse(file, json));
    });
}
