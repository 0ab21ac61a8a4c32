import type { GateScanPayload } from '@storeedge/device-drivers';
import { DeviceSimulator, type DeviceSimulatorBaseOptions } from './device-simulator.ts';

export type GateLane = GateScanPayload['lane'];

export type GateSimulatorOptions = DeviceSimulatorBaseOptions;

/** An entry/exit gate: a shopper presents a pseudonymous token and the gate reports a `scan`. */
export class GateSimulator extends DeviceSimulator {
  #entries = 0;
  #exits = 0;

  constructor(options: GateSimulatorOptions) {
    super({ ...options, kind: 'gate', model: options.model ?? 'storeedge-sim-gate-2lane' });
  }

  /**
   * Publishes `evt/scan` (QoS 1) and resolves on its PUBACK. A token that breaks the contract
   * (8-128 URL-safe characters) rejects with SIM_ERR_PAYLOAD_INVALID.
   */
  scan(lane: GateLane, token: string, party = 1): Promise<void> {
    if (lane === 'entry') this.#entries++;
    else this.#exits++;
    const payload: Omit<GateScanPayload, 'at'> = { lane, token, party };
    return this.publishEvent('scan', payload, { qos: 1 });
  }

  /** Scans made so far, per lane. */
  scans(): { entry: number; exit: number } {
    return { entry: this.#entries, exit: this.#exits };
  }
}
