/**
 * The drive driver: `mt status` for position, block size, density and the cartridge's write
 * protection; `tapeinfo` (SG_IO INQUIRY, MODE SENSE, LOG SENSE 2Eh) for identity, readiness and
 * TapeAlert flags. tapeinfo needs the generic node; without one the status has no alerts.
 */

import type { ToolOptions } from './changer.js';
import * as cmd from './commands.js';
import { parseMtStatus } from './parse-mt-status.js';
import { parseTapeinfo } from './parse-tapeinfo.js';
import type { MtStatus, TapeInfo } from './types.js';

export interface DriveState {
  mt: MtStatus;
  info?: TapeInfo;
  /** why tapeinfo gave nothing, when it did not */
  infoError?: string;
}

export interface DriveDriver {
  planRewind(): string[];
  planEject(): string[];
  status(signal?: AbortSignal): Promise<DriveState>;
  rewind(signal?: AbortSignal): Promise<void>;
  eject(signal?: AbortSignal): Promise<void>;
}

export class MtDrive implements DriveDriver {
  constructor(
    readonly device: string,
    readonly sg: string | undefined,
    private o: ToolOptions,
  ) {}

  private run(argv: string[], signal?: AbortSignal, okCodes?: number[]) {
    return this.o.runner.run(argv, { env: this.o.env, timeoutMs: this.o.timeoutMs, signal, okCodes });
  }

  planRewind(): string[] {
    return cmd.mtRewind(this.device);
  }

  planEject(): string[] {
    return cmd.mtOffline(this.device);
  }

  async status(signal?: AbortSignal): Promise<DriveState> {
    // mt-st exits 2 with a status on stdout when the drive has no cartridge on some versions
    const r = await this.run(cmd.mtStatus(this.device), signal, [0, 2]);
    const out: DriveState = { mt: parseMtStatus(r.stdout) };
    if (this.sg) {
      try {
        out.info = parseTapeinfo((await this.run(cmd.tapeinfo(this.sg), signal)).stdout);
      } catch (e) {
        out.infoError = (e as Error).message;
      }
    }
    return out;
  }

  async rewind(signal?: AbortSignal): Promise<void> {
    await this.run(this.planRewind(), signal);
  }

  async eject(signal?: AbortSignal): Promise<void> {
    await this.run(this.planEject(), signal);
  }
}
