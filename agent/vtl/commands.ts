/**
 * Pure argv builders for mhvtl's tools and units. Barcodes are built by the model from a
 * validated prefix and a number, so they are plain tokens; mktape takes no `--`, each value is
 * the argument of its option.
 */
import { DRIVE_MODELS } from './model.js';

/** `mktape -l LIB -m PCL -s MB -t data|clean -d LTOn`: one virtual cartridge under the library's home. */
export function mktape(
  configDir: string,
  library: number,
  barcode: string,
  capacityMB: number,
  kind: 'data' | 'clean',
  gen: number,
): string[] {
  return [
    'mktape',
    '-C',
    configDir,
    '-l',
    String(library),
    '-m',
    barcode,
    '-s',
    String(capacityMB),
    '-t',
    kind,
    '-d',
    DRIVE_MODELS[gen]!.density,
  ];
}

/** mhvtl's units: mhvtl.target pulls in vtllibrary@<id> and vtltape@<id> for every device.conf entry. */
export const restartMhvtl = (): string[] => ['systemctl', 'restart', 'mhvtl.target'];
export const stopMhvtl = (): string[] => ['systemctl', 'stop', 'mhvtl.target'];
