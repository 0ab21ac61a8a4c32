import { loadConfigFile } from '../config/load.ts';
import { errors } from '../errors.ts';
import { Ledger } from '../ledger/ledger.ts';
import { devicesProjection } from '../registry/devices-projection.ts';
import { DeviceRegistry } from '../registry/registry.ts';
import { parseCommandArgs } from './main.ts';
import { userInfo } from 'node:os';

const help = `storeedge device add ID --kind KIND [--driver NAME] --config FILE
       storeedge device list|disable ID|enable ID|rotate-secret ID --config FILE   (--json for machine output)`;

/**
 * Device credentials, managed straight in the ledger file: safe while the agent runs (SQLite
 * WAL; the agent sees changes within seconds and disconnects disabled or rotated devices).
 */
export async function runDeviceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      config: { type: 'string', short: 'c' },
      kind: { type: 'string' },
      driver: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    help,
  );
  const [action, id] = positionals;
  if (!values.config) throw errors.EDGE_ERR_CLI_USAGE(`--config FILE is required\nusage: ${help}`);
  const needsId = action === 'add' || action === 'disable' || action === 'enable' || action === 'rotate-secret';
  if (!action || (action !== 'list' && !needsId)) throw errors.EDGE_ERR_CLI_USAGE(`unknown or missing action\nusage: ${help}`);
  if (needsId && !id) throw errors.EDGE_ERR_CLI_USAGE(`device ${action} needs a device ID\nusage: ${help}`);
  const config = loadConfigFile(values.config);
  const ledger = Ledger.open(config.ledgerFile, { projections: [devicesProjection], synchronous: config.ledger.synchronous });
  const registry = new DeviceRegistry(ledger);
  const actor = `cli:${userInfo().username}`;
  const out = (value: unknown, text: string) => process.stdout.write(values.json ? `${JSON.stringify(value)}\n` : `${text}\n`);
  try {
    switch (action) {
      case 'list': {
        const devices = registry.list().map(({ secretHash: _hidden, ...d }) => d);
        out(devices, devices.length === 0 ? 'no devices registered' : devices.map((d) => `${d.id}\t${d.kind}\t${d.driver}\t${d.enabled ? 'enabled' : 'DISABLED'}`).join('\n'));
        return 0;
      }
      case 'add': {
        if (!values.kind) throw errors.EDGE_ERR_CLI_USAGE(`device add needs --kind\nusage: ${help}`);
        const { device, secret } = await registry.add({ id: id!, kind: values.kind, ...(values.driver ? { driver: values.driver } : {}), actor });
        out({ id: device.id, kind: device.kind, secret }, `registered ${device.id} (${device.kind})\nsecret: ${secret}\nThe secret is shown only now; configure the device with it (MQTT username and client id = ${device.id}).`);
        return 0;
      }
      case 'rotate-secret': {
        const { device, secret } = await registry.rotateSecret(id!, actor);
        out({ id: device.id, secret }, `new secret for ${device.id}: ${secret}\nThe old secret no longer works; a connected device is disconnected within seconds.`);
        return 0;
      }
      case 'disable': {
        const device = registry.disable(id!, actor, values.reason);
        out({ id: device.id, enabled: device.enabled }, `${device.id} disabled`);
        return 0;
      }
      case 'enable': {
        const device = registry.enable(id!, actor);
        out({ id: device.id, enabled: device.enabled }, `${device.id} enabled`);
        return 0;
      }
    }
    return 2;
  } finally {
    ledger.close();
  }
}
