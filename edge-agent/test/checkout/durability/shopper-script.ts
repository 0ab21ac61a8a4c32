import type { GateScanPayload, TracksPayload, WeightPayload } from '@storeedge/device-drivers';
import type { DeviceFleet } from './devices.ts';
import { devices, trayPoint, trays } from './store.ts';

/** Sample period of the tracker and the shelf controller (10 Hz). */
export const periodMs = 100;

export interface Waypoint {
  /** Offset from the script's epoch, ms. */
  t: number;
  x: number;
  y: number;
}

export interface Reach {
  trayId: string;
  from: number;
  to: number;
}

export interface WeightStep {
  trayId: string;
  at: number;
  deltaG: number;
}

export interface Scan {
  device: string;
  at: number;
  payload: Omit<GateScanPayload, 'at'>;
}

export interface ShopperScriptInput {
  /** Device time of offset 0, ms since the epoch. */
  epochMs: number;
  trackId: string;
  /** The person is in the frames from the first waypoint until `vanishAt` (exclusive); linear between waypoints. */
  path: Waypoint[];
  vanishAt: number;
  reaches: Reach[];
  steps: WeightStep[];
  scans: Scan[];
}

/**
 * One shopper's visit as the store's devices see it, in simulated device time: a function of
 * time only (no state), so any stretch of it can be sent to whichever agent process is running,
 * and the devices' clocks and sequence numbers simply go on across agent restarts.
 * - tracker: one frame per period — the person's position, the hands at the torso, one hand on a
 *   tray's front point while reaching for it;
 * - shelf controller: every channel per period, the tray's level (tare + units) with a
 *   deterministic ±1 g noise, minus the units taken so far (clean steps);
 * - gates: scans at their times.
 */
export class ShopperScript {
  readonly input: ShopperScriptInput;

  constructor(input: ShopperScriptInput) {
    this.input = input;
  }

  at(offset: number): number {
    return this.input.epochMs + offset;
  }

  position(offset: number): { x: number; y: number } | null {
    const { path, vanishAt } = this.input;
    if (offset < path[0]!.t || offset >= vanishAt) return null;
    for (let i = path.length - 1; i >= 0; i--) {
      const a = path[i]!;
      if (offset < a.t) continue;
      const b = path[i + 1];
      if (b === undefined) return { x: a.x, y: a.y };
      const f = (offset - a.t) / (b.t - a.t);
      return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
    }
    return null;
  }

  frame(offset: number): TracksPayload {
    const here = this.position(offset);
    if (here === null) return { at: this.at(offset), tracks: [] };
    const rest = (dx: number) => ({ x: round(here.x + dx), y: round(here.y + 0.05), z: 0.95 });
    const reach = this.input.reaches.find((r) => offset >= r.from && offset <= r.to);
    const right = reach === undefined ? rest(0.15) : (({ x, y, z }) => ({ x: round(x + 0.01), y: round(y - 0.01), z: round(z + 0.02) }))(trayPoint(reach.trayId));
    return { at: this.at(offset), tracks: [{ id: this.input.trackId, x: round(here.x), y: round(here.y), hands: [rest(-0.15), right] }] };
  }

  weights(offset: number): WeightPayload {
    const tick = Math.round(offset / periodMs);
    return {
      at: this.at(offset),
      seq: tick,
      channels: trays.map((tray) => {
        const taken = this.input.steps.filter((s) => s.trayId === tray.trayId && s.at <= offset).reduce((sum, s) => sum + s.deltaG, 0);
        return { ch: tray.channel, grams: tray.levelG + taken + noise(tick, tray.channel) };
      }),
    };
  }

  /**
   * Sends the offsets [from, to) at 10 Hz in device-time order: the gate scans due, the tracker
   * frame, then the shelf sample — each awaited (PUBACK), so the agent reads them in that order.
   */
  async send(fleet: DeviceFleet, from: number, to: number): Promise<number> {
    let messages = 0;
    for (let offset = from; offset < to; offset += periodMs) {
      for (const scan of this.input.scans.filter((s) => s.at >= offset && s.at < offset + periodMs)) {
        await fleet.publish(scan.device, 'scan', { ...scan.payload, at: this.at(scan.at) });
        messages++;
      }
      await fleet.publish(devices.tracker, 'tracks', this.frame(offset));
      await fleet.publish(devices.shelf, 'weight', this.weights(offset));
      messages += 2;
    }
    return messages;
  }
}

/** Deterministic load-cell noise in {−1, 0, +1} g. */
function noise(tick: number, channel: number): number {
  return ((((Math.imul(tick + 1, 2654435761) ^ Math.imul(channel + 7, 40503)) >>> 0) % 3) as number) - 1;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
