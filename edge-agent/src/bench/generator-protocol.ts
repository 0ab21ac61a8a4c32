/**
 * Messages between the benchmark (main thread) and its load generator (a worker thread that
 * runs the simulated devices), so the broker's event loop is measured, not the generator's.
 */

export interface GeneratorDevice {
  /** MQTT client id and username (the device id). */
  id: string;
  /** Device secret; omitted for an anonymous broker (the reference). */
  password?: string;
  /** Topic the device publishes its weight messages on. */
  topic: string;
}

export interface GeneratorConfig {
  /** mqtt://host:port */
  url: string;
  devices: GeneratorDevice[];
  /** Messages per device. */
  messages: number;
  qos: 0 | 1;
  /** Devices connecting at the same time. */
  connectConcurrency: number;
  /** Per-device CONNECT → CONNACK limit, ms. */
  connectTimeoutMs: number;
  /** The publish phase reports what it has after this long, ms. */
  publishTimeoutMs: number;
  /** Load-cell channels per weight message. */
  channels: number;
  /** Device MQTT client: the minimal raw publisher (cheap) or mqtt.js (a full client). */
  client: GeneratorClient;
}

export const generatorClients = ['raw', 'mqtt.js'] as const;
export type GeneratorClient = (typeof generatorClients)[number];

export type ToGenerator =
  | { type: 'ping'; t0: number }
  | { type: 'connect' }
  | { type: 'publish' }
  | { type: 'close' };

export interface PublishReport {
  /** Absolute send time (performance.timeOrigin + performance.now(), ms) of message i = device × messages + seq; NaN if not sent. */
  sentAt: Float64Array;
  /** Publishes whose callback reported an error. */
  errors: number;
  /** Devices whose connection closed during the publish phase. */
  disconnects: number;
  /** True when the publish phase hit publishTimeoutMs. */
  timedOut: boolean;
  /** Time from the first publish call to the last publish callback, ms. */
  publishMs: number;
  /** Event-loop utilisation of the generator thread during the publish phase (0–1). */
  loopUtilization: number;
}

export type FromGenerator =
  | { type: 'ready' }
  | { type: 'pong'; t0: number; t: number }
  | { type: 'connected'; connectMs: number }
  | ({ type: 'published' } & PublishReport)
  | { type: 'closed' }
  | { type: 'failed'; message: string };

/** Index of (device, seq) in the flat per-message arrays. */
export function messageIndex(device: number, seq: number, messages: number): number {
  return device * messages + seq;
}

const channelLists = new Map<number, string[]>();

/**
 * A weight payload as a shelf controller sends it (device contract: payloads.ts weightPayload),
 * built from cached pieces so the generator spends its time in the MQTT client, not here.
 */
export function weightMessage(seq: number, channels: number, at: number): string {
  let lists = channelLists.get(channels);
  if (!lists) {
    lists = Array.from({ length: 7 }, (_, v) =>
      JSON.stringify(Array.from({ length: channels }, (_, ch) => ({ ch, grams: Math.round((1000 + ch * 250 + v * 0.5) * 10) / 10 }))),
    );
    channelLists.set(channels, lists);
  }
  return `{"at":${at},"seq":${seq},"channels":${lists[seq % 7]!}}`;
}
