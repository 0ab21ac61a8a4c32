import type { WeightPayload } from '@storeedge/device-drivers';

/** Where a tray's load cell is wired: the shelf controller (device id) and its channel. */
export interface TrayChannel {
  trayId: string;
  deviceId: string;
  channel: number;
}

/**
 * One `evt/weight` payload per shelf controller from one `ShelfLoadModel.sample()`: the
 * readings of its trays, channel by channel, rounded to 0.1 g like the controller firmware
 * (docs/mqtt.md). Controllers come out in the order their first tray appears in `channels`.
 */
export function weightPayloads(
  readings: Readonly<Record<string, number>>,
  channels: readonly TrayChannel[],
  at: number,
  seq?: number,
): Array<{ deviceId: string; payload: WeightPayload }> {
  const byDevice = new Map<string, WeightPayload['channels']>();
  for (const { trayId, deviceId, channel } of channels) {
    const grams = readings[trayId];
    if (grams === undefined) continue;
    let list = byDevice.get(deviceId);
    if (list === undefined) byDevice.set(deviceId, (list = []));
    list.push({ ch: channel, grams: Math.round(grams * 10) / 10 });
  }
  const stamp = Math.round(at);
  return [...byDevice].map(([deviceId, list]) => ({
    deviceId,
    payload: seq === undefined ? { at: stamp, channels: list } : { at: stamp, seq, channels: list },
  }));
}
