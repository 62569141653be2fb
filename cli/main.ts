#!/usr/bin/env node
/**
 * calypsoctl's entry point: runs the program of cli/program.ts and turns any error into the
 * CLI contract (docs/design.md): one line of JSON on stderr and exit 1, followed by the same error in
 * plain words when stderr is a terminal (cli/errors.ts).
 */
import { RpcClientError } from '../rpc/client.js';
import { type ErrorJson, errorOutput } from './errors.js';
import { programFor } from './program.js';

programFor(process.argv)
  .then((program) => program.parseAsync(process.argv))
  .catch((err) => {
    const e: ErrorJson =
      err instanceof RpcClientError
        ? err.toJSON()
        : { code: -32603, message: (err as Error).message ?? String(err) };
    process.stderr.write(errorOutput(e, Boolean(process.stderr.isTTY)));
    process.exit(1);
  });
