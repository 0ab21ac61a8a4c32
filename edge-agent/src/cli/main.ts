import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StoreEdgeError, errors } from '../errors.ts';

const usage = `storeedge — the in-store edge runtime

usage:
  storeedge agent --config FILE              run the store agent (broker, ledger, API)
  storeedge demo [--port N] [--hq-port N] [--seed N]
                                             agent + a simulated store + a reference HQ; prints the URLs
  storeedge device add ID --kind KIND --config FILE
  storeedge device list|disable ID|enable ID|rotate-secret ID --config FILE
  storeedge user hash [--password-file FILE] | user token
                                             a dashboard user's password hash / an API token for the config's http section
  storeedge sim --scenario FILE [--seed N] [--report FILE]
                                             run a scenario against an in-process agent; prints and writes the report
  storeedge hq serve|keygen|token|publish|status …
                                             the reference HQ (docs/sync.md); \`storeedge hq help\` for its commands
  storeedge bench [broker|shelves|checkout|vision|labels|sync] [--runs N]
                                             benchmarks; prints a table and writes JSON
  storeedge help

docs: README.md and docs/ (configuration.md, mqtt.md, errors.md)`;

export type Command = (args: string[]) => Promise<number>;

/** Loaded on use: `storeedge hq` need not load the agent (onnxruntime, sharp, fonts), nor `device` the simulators. */
const commands: Record<string, () => Promise<Command>> = {
  agent: async () => (await import('./agent-command.ts')).runAgentCommand,
  demo: async () => (await import('./demo-command.ts')).runDemoCommand,
  device: async () => (await import('./device-command.ts')).runDeviceCommand,
  user: async () => (await import('./user-command.ts')).runUserCommand,
  bench: async () => (await import('./bench-command.ts')).runBenchCommand,
  sim: async () => (await import('./sim-command.ts')).runSimCommand,
  hq: async () => (await import('@storeedge/sync/hq/cli.ts')).runHqCommand,
};

/** Runs one CLI command; returns the exit code. Errors print their code and what to do, not a stack. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`storeedge: unknown command "${name}"\n\n${usage}\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest);
  } catch (error) {
    if (error instanceof StoreEdgeError) {
      process.stderr.write(`storeedge ${name}: ${error.code}: ${error.message}\n`);
      return error.code === errors.EDGE_ERR_CLI_USAGE.code ? 2 : 1;
    }
    process.stderr.write(`storeedge ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/** node:util parseArgs with usage errors as EDGE_ERR_CLI_USAGE. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(args: string[], options: T, help: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw errors.EDGE_ERR_CLI_USAGE(`${(cause as Error).message}\nusage: ${help}`, { cause });
  }
}

/** Resolves when SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
