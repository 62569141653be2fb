/** Types for pino-roll's in-process API (the package ships none). */
declare module 'pino-roll' {
  import type { DestinationStream } from 'pino';

  interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: string | number;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    symlink?: boolean;
    dateFormat?: string;
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<DestinationStream>;
}
