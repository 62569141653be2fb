/**
 * The changer driver: the interface the service works against, and its mtx implementation
 * (argv → runner → pure parser, nothing else). A READ ELEMENT STATUS over SG_IO would be a second
 * implementation of the same interface (PBS has both); mtx is enough here because its output is
 * what support staff already read, and `calypsoctl changer parse` reads the same text.
 */
import type { Runner } from '../runner.js';
import * as cmd from './commands.js';
import { parseMtxStatus } from './parse-mtx-status.js';
import type { ChangerStatus } from './types.js';

export interface ChangerDriver {
  /** The argv a move runs (dry runs show exactly this). */
  planMove(m: cmd.Move): string[];
  planInventory(): string[];
  status(signal?: AbortSignal): Promise<ChangerStatus>;
  inventory(signal?: AbortSignal): Promise<void>;
  move(m: cmd.Move, signal?: AbortSignal): Promise<void>;
}

export interface ToolOptions {
  runner: Runner;
  /** extra environment for the tools (wrappers, preload libraries): tape.toolEnv */
  env: Record<string, string>;
  timeoutMs: number;
}

export class MtxChanger implements ChangerDriver {
  constructor(
    readonly device: string,
    private o: ToolOptions,
  ) {}

  private run(argv: string[], signal?: AbortSignal) {
    return this.o.runner.run(argv, { env: this.o.env, timeoutMs: this.o.timeoutMs, signal });
  }

  planMove(m: cmd.Move): string[] {
    return cmd.mtxMove(this.device, m);
  }

  planInventory(): string[] {
    return cmd.mtxInventory(this.device);
  }

  async status(signal?: AbortSignal): Promise<ChangerStatus> {
    const r = await this.run(cmd.mtxStatus(this.device), signal);
    return parseMtxStatus(r.stdout);
  }

  async inventory(signal?: AbortSignal): Promise<void> {
    await this.run(cmd.mtxInventory(this.device), signal);
  }

  async move(m: cmd.Move, signal?: AbortSignal): Promise<void> {
    await this.run(this.planMove(m), signal);
  }
}
