/**
 * calypsoctl — the agent's command line (docs/design.md "Contracts"); cli/main.ts runs it.
 *
 * `call METHOD [PARAMS_JSON]` always prints the result as JSON and exits 0; a JSON-RPC error
 * goes to stderr as JSON and exits 1 (cli/errors.ts). Other subcommands print for people, and
 * JSON with --json. Every command, argument and option has a description (test/core/cli-help).
 */
import path from 'node:path';
import { Command, type Command as CommandT } from 'commander';
import { createLayout, resolvePrefix } from '../agent/layout.js';
import { packageVersion } from '../agent/package-root.js';
import { AgentClient, RpcClientError } from '../rpc/client.js';
import { closestName } from '../rpc/params-errors.js';
import { registerChangerCommands } from './changer.js';
import { describeJson, describeText, kindOf, type OpenRpcDoc } from './describe.js';
import { human, printTable } from './human.js';
import { watchJobs } from './output.js';
import { registerResourceCommands } from './resources.js';

interface Globals {
  socket?: string;
  url?: string;
  token?: string;
  json?: boolean;
  prefix?: string;
}

export function buildProgram(): CommandT {
  const program = new Command()
    .name('calypsoctl')
    .description('Command line of the Calypso appliance agent')
    .version(packageVersion())
    .option('--socket <path>', 'agent socket (default $CALYPSO_SOCKET, else <prefix>/run/calypso/agent.sock)')
    .option('--prefix <dir>', 'appliance prefix used to find the socket (default $CALYPSO_PREFIX or /)')
    .option('--url <ws-url>', 'connect over WebSocket instead (needs --token or $CALYPSO_TOKEN)')
    .option('--token <token>', 'bearer token for --url')
    .option('--json', 'machine-readable output');
  program.showSuggestionAfterError(true);

  function globals(): Globals {
    return program.opts<Globals>();
  }

  async function connect(): Promise<AgentClient> {
    const g = globals();
    if (g.url) return AgentClient.connectWs(g.url, g.token ?? process.env.CALYPSO_TOKEN);
    const socket = g.socket ?? process.env.CALYPSO_SOCKET ?? createLayout(resolvePrefix(g.prefix)).socket;
    try {
      return await AgentClient.connectUnix(socket);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM')
        throw new RpcClientError(-32011, `permission denied on ${socket}`, {
          kind: 'unavailable',
          reason:
            'permission denied: add yourself to group calypso (auditor), calypso-operator or calypso-admin, then log in again',
        });
      throw new RpcClientError(-32011, `cannot connect to the agent at ${socket}: ${(e as Error).message}`, {
        kind: 'unavailable',
        reason:
          code === 'ENOENT' || code === 'ECONNREFUSED'
            ? 'the agent is not running (systemctl status calypso-agent), or --socket names another path'
            : 'agent not running or socket not accessible',
      });
    }
  }

  async function withClient<T>(fn: (c: AgentClient) => Promise<T>): Promise<T> {
    const c = await connect();
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  }

  function out(value: unknown, human?: () => void) {
    if (globals().json || !human) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else human();
  }

  function parseParams(text: string | undefined): Record<string, unknown> {
    if (!text) return {};
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new RpcClientError(-32700, `PARAMS_JSON is not JSON: ${(e as Error).message}`, {
        kind: 'invalid',
      });
    }
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new RpcClientError(-32602, 'PARAMS_JSON must be a JSON object (params by name)', {
        kind: 'invalid',
      });
    return v as Record<string, unknown>;
  }

  program
    .command('call')
    .description('call a method; prints the result as JSON (see `calypsoctl describe METHOD`)')
    .argument('<METHOD>', 'method name, e.g. pool.list (`calypsoctl methods` lists them)')
    .argument('[PARAMS_JSON]', 'params as one JSON object, by name, e.g. \'{"name":"tank"}\'')
    .action(async (method: string, params?: string) => {
      const p = parseParams(params);
      const r = await withClient((c) => c.call(method, p));
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    });

  program
    .command('methods')
    .description('list the agent’s methods')
    .argument('[PREFIX]', 'only methods whose name starts with this, e.g. pool or iscsi.lun')
    .action(async (prefix?: string) => {
      const doc = await withClient((c) => c.call<OpenRpcDoc>('rpc.discover'));
      const rows = doc.methods
        .filter((m) => !prefix || m.name.startsWith(prefix))
        .map((m) => ({
          method: m.name,
          role: String(m['x-role']),
          kind: kindOf(m),
          summary: m.summary ?? '',
        }));
      out(rows, () => printTable(rows, ['method', 'role', 'kind', 'summary']));
    });

  program
    .command('describe')
    .description('one method: what it does, role, whether it mutates or runs as a job, params, an example')
    .argument('<METHOD>', 'method name, e.g. pool.create')
    .action(async (name: string) => {
      const doc = await withClient((c) => c.call<OpenRpcDoc>('rpc.discover'));
      const m = doc.methods.find((x) => x.name === name);
      if (!m) {
        // the same suggestion the agent gives for a call to an unknown method
        const suggestion = closestName(
          name,
          doc.methods.map((x) => x.name),
        );
        throw new RpcClientError(-32601, `Method not found: ${name}`, {
          kind: 'not_found',
          method: name,
          ...(suggestion ? { suggestion } : {}),
        });
      }
      out(describeJson(m), () => process.stdout.write(describeText(m)));
    });

  program
    .command('ping')
    .description('check that the agent answers')
    .action(async () => {
      const r = await withClient((c) => c.call<{ version: string; uptime: number }>('system.ping'));
      out(r, () => console.log(`calypso-agent ${r.version}, up ${r.uptime} s`));
    });

  program
    .command('capabilities')
    .description('which storage tools and kernel features the agent found')
    .action(async () => {
      const r = await withClient((c) => c.call<Record<string, unknown>[]>('system.capabilities'));
      out(r, () =>
        printTable(
          r.map((x) => ({
            name: x.name,
            available: x.available ? 'yes' : 'no',
            version: x.version ?? '',
            why: x.reason ?? '',
          })),
          ['name', 'available', 'version', 'why'],
        ),
      );
    });

  program
    .command('jobs')
    .description('list jobs; --watch shows live progress until the running ones finish')
    .option('--watch', 'live progress bars')
    .option('--state <state>', 'only jobs in this state')
    .option('--limit <n>', 'how many', '20')
    .action(async (o: { watch?: boolean; state?: string; limit: string }) => {
      await withClient(async (c) => {
        if (o.watch) return watchJobs(c, Boolean(globals().json));
        const r = await c.call<{ items: Record<string, unknown>[]; total: number }>('job.list', {
          limit: Number(o.limit),
          ...(o.state ? { state: o.state } : {}),
        });
        out(r, () =>
          printTable(
            r.items.map((j) => {
              const p = j.progress as { percent: number; description: string };
              return {
                id: j.id,
                method: j.method,
                state: j.state,
                progress: `${p.percent}%`,
                description: p.description,
                user: j.user,
                created: new Date(j.createdAt as number).toISOString(),
              };
            }),
            ['id', 'method', 'state', 'progress', 'description', 'user', 'created'],
          ),
        );
      });
    });

  program
    .command('job')
    .description('show one job, or abort it')
    .argument('<ID>', 'job id, as `calypsoctl jobs` lists it')
    .option('--abort', 'abort the job')
    .option('--watch', 'follow the job until it ends')
    .action(async (id: string, o: { abort?: boolean; watch?: boolean }) => {
      if (o.watch) return withClient((c) => watchJobs(c, Boolean(globals().json), id));
      const r = await withClient((c) => c.call(o.abort ? 'job.abort' : 'job.get', { id }));
      out(r);
    });

  const token = program
    .command('token')
    .description('API tokens for the WebSocket (bearer tokens): create, list, revoke');
  token
    .command('create')
    .description('create a token; it is shown once, keep it (the agent stores only its hash)')
    .argument('<NAME>', 'a name for people, e.g. the automation that will use it')
    .requiredOption('--role <role>', 'role of the token: admin, operator or auditor')
    .option('--expires <days>', 'expire after this many days (default: never)')
    .action(async (name: string, o: { role: string; expires?: string }) => {
      const r = await withClient((c) =>
        c.call<{ token: string; info: { id: string } }>('auth.token.create', {
          name,
          role: o.role,
          ...(o.expires ? { expiresInDays: Number(o.expires) } : {}),
        }),
      );
      out(r, () => console.log(`token ${r.info.id} (shown once):\n${r.token}`));
    });
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async () => {
      const r = await withClient((c) =>
        c.call<{ items: Record<string, unknown>[]; total: number }>('auth.token.list'),
      );
      out(r, () => printTable(r.items, ['id', 'name', 'role', 'createdBy', 'expiresAt', 'revokedAt']));
    });
  token
    .command('revoke')
    .description('revoke a token: it stops working at once')
    .argument('<ID>', 'token id, as `calypsoctl token list` shows it')
    .action(async (id: string) => out(await withClient((c) => c.call('auth.token.revoke', { id }))));

  const audit = program
    .command('audit')
    .description('the audit log: who called which mutating method, and every denial');
  audit
    .command('list', { isDefault: true })
    .description('the latest audit records, newest first (the default)')
    .option('--limit <n>', 'how many', '20')
    .option('--method <method>', 'only this method, e.g. pool.create')
    .option('--user <user>', 'only this user')
    .option('--outcome <outcome>', 'only this outcome, e.g. ok, denied, error')
    .action(async (o: { limit: string; method?: string; user?: string; outcome?: string }) => {
      const r = await withClient((c) =>
        c.call<{ items: Record<string, unknown>[] }>('audit.query', {
          limit: Number(o.limit),
          ...(o.method ? { method: o.method } : {}),
          ...(o.user ? { user: o.user } : {}),
          ...(o.outcome ? { outcome: o.outcome } : {}),
        }),
      );
      out(r, () =>
        printTable(
          r.items.map((x) => ({ ...x, time: new Date(x.time as number).toISOString() })),
          ['seq', 'time', 'user', 'transport', 'method', 'outcome'],
        ),
      );
    });
  audit
    .command('verify')
    .description('check the hash chain of the audit log; exit 1 when it is broken')
    .action(async () => {
      const r = await withClient((c) =>
        c.call<{ ok: boolean; checked: number; reason?: string }>('audit.verify'),
      );
      out(r, () =>
        console.log(r.ok ? `audit chain intact (${r.checked} records)` : `AUDIT CHAIN BROKEN: ${r.reason}`),
      );
      if (!r.ok) process.exitCode = 1;
    });

  program
    .command('probe')
    .description('run a hardware probe offline against a (recorded) tree')
    .argument('<KIND>', 'disks, hbas, tapes, changers or all')
    .option('--sysroot <dir>', 'root of the tree', '/')
    .action(async (kind: string, o: { sysroot: string }) => {
      const mod = (await import(new URL('./probe.js', import.meta.url).href)) as {
        runProbe(kind: string, sysroot: string, json: boolean): Promise<string>;
      };
      process.stdout.write(await mod.runProbe(kind, o.sysroot, Boolean(globals().json)));
    });

  const release = program.command('release').description('appliance releases: install, list, roll back');
  release
    .command('install')
    .description('install a release tarball and upgrade to it (a job: health check, rollback on failure)')
    .argument('<FILE>', 'release tarball, calypso-X.Y.Z.tar.gz')
    .option('--watch', 'follow the job')
    .action(async (file: string, o: { watch?: boolean }) => {
      await withClient(async (c) => {
        const r = await c.call<{ job: string }>('release.install', {
          file: path.resolve(file),
        });
        if (o.watch) await watchJobs(c, Boolean(globals().json), r.job);
        else out(r, () => console.log(`upgrade job ${r.job} started (calypsoctl jobs --watch)`));
      });
    });
  release
    .command('list')
    .description('installed releases, and which one is current')
    .action(async () => out(await withClient((c) => c.call('release.list'))));
  release
    .command('rollback')
    .description('go back to the release the current one was upgraded from (or --to VERSION)')
    .option('--to <version>', 'an installed release to go back to')
    .action(async (o: { to?: string }) =>
      out(await withClient((c) => c.call('release.rollback', o.to ? { version: o.to } : {}))),
    );

  registerChangerCommands(program);
  markRequired(program);
  return program;
}

const VALUE_OPTIONS = new Set(['--socket', '--prefix', '--url', '--token']);

/** The first command word of argv (after node, the script and the global options). */
export function commandWord(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * The program for this argv: the built-in commands, plus the resource commands made from the
 * running agent's methods when the command word is not a built-in one (cli/resources.ts).
 */
export async function programFor(argv: string[]): Promise<CommandT> {
  const program = buildProgram();
  const word = commandWord(argv);
  if (!word || word === 'help' || program.commands.some((c) => c.name() === word)) return program;
  program.parseOptions(argv.slice(2)); // the globals (--socket, --json) before the command word
  const g = program.opts<Globals>();
  let client: AgentClient;
  try {
    client = g.url
      ? await AgentClient.connectWs(g.url, g.token ?? process.env.CALYPSO_TOKEN)
      : await AgentClient.connectUnix(
          g.socket ?? process.env.CALYPSO_SOCKET ?? createLayout(resolvePrefix(g.prefix)).socket,
        );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RpcClientError(-32601, `unknown command '${word}'`, {
      kind: 'not_found',
      reason:
        code === 'EACCES'
          ? 'resource commands (calypsoctl pool list, …) come from the agent, and its socket says permission denied: add yourself to group calypso'
          : `resource commands (calypsoctl pool list, …) come from the agent's methods, and the agent could not be reached (${(e as Error).message}); built-in commands: ${program.commands.map((c) => c.name()).join(', ')}`,
    });
  }
  const doc = await client.call<OpenRpcDoc>('rpc.discover');
  const areas = registerResourceCommands(program, doc, async (method, params) => {
    try {
      const r = await client.call(method, params);
      const json = Boolean(program.opts<Globals>().json) || !process.stdout.isTTY;
      process.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : human(r));
    } finally {
      client.close();
    }
  });
  if (!areas.includes(word)) {
    client.close();
    const suggestion = closestName(word, [...program.commands.map((c) => c.name())]);
    throw new RpcClientError(-32601, `unknown command '${word}'`, {
      kind: 'not_found',
      ...(suggestion ? { suggestion } : {}),
      reason:
        'calypsoctl --help lists the commands; calypsoctl methods lists every method (calypsoctl call METHOD runs any)',
    });
  }
  markRequired(program);
  // close the connection when commander prints help or an error and exits without an action
  program.exitOverride((err) => {
    client.close();
    process.exit(err.exitCode);
  });
  return program;
}

/** Commander does not mark required options in help: say it in the description. */
function markRequired(c: CommandT): void {
  for (const o of c.options)
    if (o.mandatory && !o.description.endsWith('(required)')) o.description += ' (required)';
  for (const sub of c.commands) markRequired(sub);
}
