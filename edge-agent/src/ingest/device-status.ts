import type { DeviceKind, HealthPayload, StatePayload } from '@storeedge/device-drivers';

export interface DeviceStatus {
  online: boolean;
  /** Agent time of the last accepted message or connection change. */
  lastSeen: number | null;
  connectedAt: number | null;
  birth: StatePayload | null;
  health: HealthPayload | null;
  messages: number;
  rejects: Record<string, number>;
}

/**
 * Live state of every device the agent has heard from: online, last seen, health, message and
 * reject counts. In memory: devices re-announce themselves (birth) when the agent restarts.
 */
export class DeviceStatusBook {
  readonly #status = new Map<string, DeviceStatus & { kind: DeviceKind | null }>();

  get(deviceId: string): DeviceStatus | undefined {
    return this.#status.get(deviceId);
  }

  #entry(deviceId: string) {
    let s = this.#status.get(deviceId);
    if (!s) {
      s = { kind: null, online: false, lastSeen: null, connectedAt: null, birth: null, health: null, messages: 0, rejects: {} };
      this.#status.set(deviceId, s);
    }
    return s;
  }

  /** Marks a device online; true when this is a transition. */
  online(deviceId: string, at: number, birth?: StatePayload): boolean {
    const s = this.#entry(deviceId);
    const changed = !s.online;
    s.online = true;
    s.lastSeen = at;
    if (changed) s.connectedAt = at;
    if (birth) s.birth = birth;
    return changed;
  }

  /** Marks a device offline; true when this is a transition. */
  offline(deviceId: string, at: number): boolean {
    const s = this.#entry(deviceId);
    const changed = s.online;
    s.online = false;
    s.lastSeen = at;
    s.connectedAt = null;
    return changed;
  }

  seen(deviceId: string, at: number, health?: HealthPayload): void {
    const s = this.#entry(deviceId);
    s.lastSeen = at;
    s.messages += 1;
    if (health) s.health = health;
  }

  rejected(deviceId: string, code: string): void {
    const s = this.#entry(deviceId);
    s.rejects[code] = (s.rejects[code] ?? 0) + 1;
  }

  onlineCount(): number {
    let n = 0;
    for (const s of this.#status.values()) if (s.online) n += 1;
    return n;
  }
}
