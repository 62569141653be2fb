/** The ZFS_SEND port (port.ts): what replication to another appliance needs from this side's ZFS. */
import * as cmd from './commands.js';
import type { ZfsContext } from './context.js';
import type { ZfsSendPort } from './port.js';
import { estimateSend, runPipe } from './replication.js';

export function sendPort(z: ZfsContext): ZfsSendPort {
  return {
    require: async () => {
      await z.ready();
    },
    sendArgv: (to, from) => cmd.zfsSend(to, from),
    resumeArgv: (token) => cmd.zfsSendResume(token),
    estimate: async (to, from) => (await estimateSend(z.driver, await z.ready(), to, from)).bytes,
    run: async (argv, okCodes) => {
      await z.ready();
      try {
        return await z.driver.run(argv, okCodes ? { okCodes } : {});
      } finally {
        z.cache.invalidate();
      }
    },
    pipe: async (send, receive, o) => {
      const d = await z.ready();
      return runPipe(send, receive, { runner: z.driver.runner, env: d.env, ...o }).finally(() =>
        z.cache.invalidate(),
      );
    },
  };
}
