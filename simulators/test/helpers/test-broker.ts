import net from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import mqtt from 'mqtt';

export interface ReceivedMessage {
  topic: string;
  /** The payload parsed as JSON. */
  body: unknown;
  retain: boolean;
  qos: number;
  clientId: string;
}

export interface TestBroker {
  broker: Aedes;
  url: string;
  /** Every publish a client made (devices, and wills the broker sent on their behalf), in arrival order. */
  received: ReceivedMessage[];
  /** CONNECT attempts per client id, accepted or not. */
  connectAttempts: Map<string, number>;
  /** Live connections by client id (to drop one from the broker's side). */
  clients: Map<string, Client>;
  /** Messages received on one topic. */
  on(topic: string): ReceivedMessage[];
  /** Publishes as the agent would (commands), from inside the broker. */
  publish(topic: string, body: unknown): Promise<void>;
  /** The retained message on a topic, read by a fresh subscriber; rejects when there is none. */
  retained(topic: string): Promise<unknown>;
  close(): Promise<void>;
}

const OBSERVER = { id: 'test-observer', password: 'observer-secret' };

/**
 * A plain aedes broker on 127.0.0.1, port 0, that accepts a client only when client id =
 * username and the password is the one listed for it: the rule the store broker enforces.
 */
export async function startTestBroker(passwords: Readonly<Record<string, string>>): Promise<TestBroker> {
  const known = new Map(Object.entries({ ...passwords, [OBSERVER.id]: OBSERVER.password }));
  const connectAttempts = new Map<string, number>();
  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      connectAttempts.set(client.id, (connectAttempts.get(client.id) ?? 0) + 1);
      const expected = username === undefined ? undefined : known.get(username);
      if (expected !== undefined && client.id === username && password?.toString('utf8') === expected) {
        done(null, true);
        return;
      }
      const error = Object.assign(new Error('bad username or password'), { returnCode: 4 }) as AuthenticateError;
      done(error, null);
    },
  });
  const received: ReceivedMessage[] = [];
  const clients = new Map<string, Client>();
  broker.on('clientReady', (client) => clients.set(client.id, client));
  broker.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
  });
  broker.on('publish', (packet, client) => {
    if (client === null || client.id === OBSERVER.id) return;
    received.push({
      topic: packet.topic,
      body: JSON.parse(packet.payload.toString()),
      retain: packet.retain,
      qos: packet.qos,
      clientId: client.id,
    });
  });
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = `mqtt://127.0.0.1:${port}`;

  return {
    broker,
    url,
    received,
    connectAttempts,
    clients,
    on: (topic) => received.filter((m) => m.topic === topic),
    publish: (topic, body) =>
      new Promise<void>((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false }, (error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    async retained(topic) {
      const client = await mqtt.connectAsync(url, {
        clientId: OBSERVER.id,
        username: OBSERVER.id,
        password: OBSERVER.password,
        reconnectPeriod: 0,
      });
      try {
        let message: { body: unknown } | undefined;
        client.on('message', (_topic, payload, packet) => {
          if (packet.retain && message === undefined) message = { body: JSON.parse(payload.toString()) };
        });
        await client.subscribeAsync(topic, { qos: 1 });
        await eventually(() => message !== undefined, `a retained message on ${topic}`);
        return message!.body;
      } finally {
        await client.endAsync();
      }
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when `predicate` holds, polling on the event loop; rejects after `limit` polls. */
export async function eventually(predicate: () => boolean, what: string, limit = 500): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
