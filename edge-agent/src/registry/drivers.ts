import type { DeviceKind } from '@storeedge/device-drivers';

/**
 * How a registered device talks to the agent. `storeedge-json` is the native MQTT contract
 * (docs/mqtt.md) and fits every kind; vendor JSON drivers decode a vendor's messages published
 * on the device's own `evt/…` topics; serial drivers are devices wired to the agent's host and
 * opened from the config's `serialDevices` (they have no MQTT connection).
 */
export const deviceDrivers = {
  'storeedge-json': { transport: 'mqtt', kinds: 'any' },
  'impinj-r700': { transport: 'mqtt', kinds: ['rfid-reader'] },
  'zebra-iotc': { transport: 'mqtt', kinds: ['rfid-reader'] },
  'storeedge-shelf-serial': { transport: 'serial', kinds: ['shelf'] },
  'm100-serial': { transport: 'serial', kinds: ['rfid-reader'] },
} as const satisfies Record<string, { transport: 'mqtt' | 'serial'; kinds: 'any' | readonly DeviceKind[] }>;

export type DeviceDriverName = keyof typeof deviceDrivers;
export const nativeDriver: DeviceDriverName = 'storeedge-json';

/** Why a driver cannot serve a kind, or undefined when it can. */
export function driverProblem(driver: string, kind: DeviceKind): string | undefined {
  if (!Object.hasOwn(deviceDrivers, driver)) return `driver "${driver}" is not known; use one of: ${Object.keys(deviceDrivers).join(', ')}`;
  const kinds = deviceDrivers[driver as DeviceDriverName].kinds;
  if (kinds !== 'any' && !(kinds as readonly string[]).includes(kind)) return `driver "${driver}" serves ${kinds.join(', ')} devices, not ${kind}`;
  return undefined;
}
