import { StoreAgent } from '../agent.ts';
import { loadConfigFile } from '../config/load.ts';
import { errors } from '../errors.ts';
import { parseCommandArgs, untilSignal } from './main.ts';

const help = 'storeedge agent --config FILE';

export async function runAgentCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' } }, help);
  if (!values.config) throw errors.EDGE_ERR_CLI_USAGE(`--config FILE is required\nusage: ${help}`);
  const config = loadConfigFile(values.config);
  const agent = await StoreAgent.start(config);
  process.stdout.write(`storeedge agent for ${config.storeId}: API ${agent.httpUrl}  broker ${JSON.stringify(agent.addresses)}\n`);
  const signal = await untilSignal();
  agent.logger.info({ signal }, 'shutting down');
  await agent.stop();
  return 0;
}
