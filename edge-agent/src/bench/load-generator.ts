/**
 * The load generator: runs inside a worker thread (started through load-generator-entry.mjs)
 * and plays N devices. On command it connects them all, has every device publish its weight
 * messages as fast as its client allows, records each message's absolute send time and hands
 * the times back to the main thread.
 *
 * "As fast as the client allows": each device publishes its next message as soon as the client
 * has taken the previous one — at QoS 0 when the client has written it to the socket (the next
 * one goes out on the next event-loop turn, so devices interleave), at QoS 1 when its PUBACK
 * arrives (one message in flight per device, like most embedded MQTT stacks).
 */
import type { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import { messageIndex, weightMessage, type FromGenerator, type GeneratorConfig, type ToGenerator } from './generator-protocol.ts';
import { RawPublisher } from './raw-client.ts';

const port = parentPort;
if (!port) throw new Error('load-generator.ts must run in a worker thread');
const config = workerData as GeneratorConfig;
const now = () => performance.timeOrigin + performance.now();
const post = (message: FromGenerator, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** What the generator needs from a device's MQTT client, whichever implementation. */
interface DeviceClient {
  publish(topic: string, payload: string, qos: 0 | 1, cb: (err?: Error) => void): void;
  onClose(listener: () => void): void;
  end(): Promise<void>;
}

const clients: DeviceClient[] = [];

async function connectRaw(index: number): Promise<DeviceClient> {
  const device = config.devices[index]!;
  const url = new URL(config.url);
  const client = await RawPublisher.connect({
    host: url.hostname,
    port: Number(url.port || 1883),
    clientId: device.id,
    ...(device.password === undefined ? {} : { username: device.id, password: device.password }),
    keepaliveS: 120,
    timeoutMs: config.connectTimeoutMs,
  });
  return { publish: (t, p, q, cb) => client.publish(t, p, q, cb), onClose: (l) => client.onClose(l), end: () => client.end() };
}

function connectMqttJs(index: number): Promise<DeviceClient> {
  const device = config.devices[index]!;
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(config.url, {
      clientId: device.id,
      ...(device.password === undefined ? {} : { username: device.id, password: device.password }),
      protocolVersion: 4,
      clean: true,
      keepalive: 120,
      reconnectPeriod: 0,
      connectTimeout: config.connectTimeoutMs,
    });
    // TCP_NODELAY as on the broker side: with Nagle on, a device's back-to-back QoS 0 messages
    // wait for the broker's delayed ACK (~40 ms on Linux) — a client setting, not the broker.
    (client.stream as Partial<Socket> | undefined)?.setNoDelay?.(true);
    const fail = (err: Error) => {
      client.removeListener('connect', ok);
      client.end(true);
      reject(new Error(`device ${device.id} could not connect: ${err.message}`));
    };
    const closedEarly = () => fail(new Error('connection closed before CONNACK'));
    const ok = () => {
      client.removeListener('error', fail);
      client.removeListener('close', closedEarly);
      client.on('error', () => undefined); // shows up as a disconnect, never thrown
      resolve({
        publish: (topic, payload, qos, cb) => client.publish(topic, payload, { qos }, (err) => cb(err ?? undefined)),
        onClose: (listener) => client.once('close', listener),
        end: () =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => client.end(true, () => done()), 2_000);
            client.end(false, () => {
              clearTimeout(timer);
              done();
            });
          }),
      });
    };
    client.once('connect', ok);
    client.once('error', fail);
    client.once('close', closedEarly);
  });
}

async function connectAll(): Promise<number> {
  const started = now();
  const connectOne = config.client === 'raw' ? connectRaw : connectMqttJs;
  let next = 0;
  const lane = async () => {
    while (next < config.devices.length) {
      const i = next++;
      try {
        clients[i] = await connectOne(i);
      } catch (err) {
        throw new Error(`device ${config.devices[i]!.id} could not connect to ${config.url}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.connectConcurrency, config.devices.length) }, lane));
  return now() - started;
}

function publishAll(): Promise<Extract<FromGenerator, { type: 'published' }>> {
  const { messages, qos, channels } = config;
  const n = config.devices.length;
  const sentAt = new Float64Array(n * messages).fill(Number.NaN);
  let errors = 0;
  let disconnects = 0;
  let finished = 0;
  let firstSend = Number.NaN;
  let lastCallback = Number.NaN;
  const elu = performance.eventLoopUtilization();
  return new Promise((resolve) => {
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({
        type: 'published',
        sentAt,
        errors,
        disconnects,
        timedOut,
        publishMs: lastCallback - firstSend,
        loopUtilization: performance.eventLoopUtilization(elu).utilization,
      });
    };
    const timer = setTimeout(() => finish(true), config.publishTimeoutMs);
    for (let d = 0; d < n; d++) {
      const client = clients[d]!;
      const topic = config.devices[d]!.topic;
      let seq = 0;
      let over = false;
      const deviceDone = () => {
        if (over) return;
        over = true;
        if (++finished === n) finish(false);
      };
      client.onClose(() => {
        if (!over) disconnects++;
        deviceDone();
      });
      const next = (): void => {
        if (done || over) return;
        if (seq === messages) return deviceDone();
        const s = seq++;
        const t = now();
        sentAt[messageIndex(d, s, messages)] = t;
        if (Number.isNaN(firstSend)) firstSend = t;
        client.publish(topic, weightMessage(s, channels, Date.now()), qos, (err) => {
          lastCallback = now();
          if (err) errors++;
          if (qos === 0) setImmediate(next);
          else next();
        });
      };
      next();
    }
  });
}

port.on('message', (message: ToGenerator) => {
  const run = async () => {
    switch (message.type) {
      case 'ping':
        return post({ type: 'pong', t0: message.t0, t: now() });
      case 'connect':
        return post({ type: 'connected', connectMs: await connectAll() });
      case 'publish': {
        const report = await publishAll();
        return post(report, [report.sentAt.buffer as ArrayBuffer]);
      }
      case 'close':
        await Promise.all(clients.map((c) => c?.end()));
        post({ type: 'closed' });
        port.close();
        return;
    }
  };
  run().catch((err: unknown) => post({ type: 'failed', message: (err as Error).message }));
});
post({ type: 'ready' });
