/**
 * Child process for the checkout kill -9 test: what `storeedge agent --config FILE`
 * (edge-agent/src/cli/agent-command.ts) does — load the config file, start the agent, print the
 * API and broker addresses on one stdout line, stop on SIGTERM — without going through the CLI's
 * command table (cli/main.ts), so the test depends only on the agent itself. The parent
 * SIGKILLs it mid-session: no exit handlers, no checkpoint, no ledger close.
 */
import { StoreAgent } from '../../../src/agent.ts';
import { loadConfigFile } from '../../../src/config/load.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: agent-child.ts CONFIG_FILE\n');
  process.exit(2);
}
const config = loadConfigFile(file);
const agent = await StoreAgent.start(config);
process.stdout.write(`storeedge agent for ${config.storeId}: API ${agent.httpUrl}  broker ${JSON.stringify(agent.addresses)}\n`);
const stop = () => {
  void agent.stop().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
