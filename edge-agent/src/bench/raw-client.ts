import { connect as netConnect, type Socket } from 'node:net';

/**
 * A minimal MQTT 3.1.1 publisher for the load generator: CONNECT, PUBLISH at QoS 0/1, PUBACK,
 * PINGREQ and DISCONNECT over one TCP socket, nothing else. It exists so the generator costs a
 * few µs per message instead of the ~25 µs of a full client, which on a 2-core machine would
 * otherwise cap the reference broker's figure at the generator's speed. Same pacing contract
 * as mqtt.js: a QoS 0 publish calls back once written to the socket (after 'drain' under
 * back-pressure), a QoS 1 publish when its PUBACK arrives.
 */
export interface RawConnectOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  keepaliveS?: number;
  timeoutMs?: number;
}

type Callback = (err?: Error) => void;

const CONNECT = 0x10;
const CONNACK = 0x20;
const PUBLISH = 0x30;
const PUBACK = 0x40;
const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** MQTT's variable-length "remaining length" (1–4 bytes). */
export function encodeRemainingLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 268_435_455) throw new RangeError(`remaining length ${length} out of range`);
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

function utf8Field(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** A CONNECT packet (MQTT 3.1.1, clean session). */
export function connectPacket(options: Pick<RawConnectOptions, 'clientId' | 'username' | 'password' | 'keepaliveS'>): Buffer {
  let flags = 0x02; // clean session
  const payload = [utf8Field(options.clientId)];
  if (options.username !== undefined) {
    flags |= 0x80;
    payload.push(utf8Field(options.username));
  }
  if (options.password !== undefined) {
    flags |= 0x40;
    payload.push(utf8Field(options.password));
  }
  const keepalive = Buffer.allocUnsafe(2);
  keepalive.writeUInt16BE(options.keepaliveS ?? 120, 0);
  const body = Buffer.concat([utf8Field('MQTT'), Buffer.from([4, flags]), keepalive, ...payload]);
  return Buffer.concat([Buffer.from([CONNECT]), encodeRemainingLength(body.length), body]);
}

/** A PUBLISH packet; `topic` is the already length-prefixed topic (utf8Field). */
export function publishPacket(topicField: Buffer, payload: string, qos: 0 | 1, packetId: number): Buffer {
  const payloadLength = Buffer.byteLength(payload, 'utf8');
  const remaining = topicField.length + (qos > 0 ? 2 : 0) + payloadLength;
  const lengthBytes = encodeRemainingLength(remaining);
  const packet = Buffer.allocUnsafe(1 + lengthBytes.length + remaining);
  let at = 0;
  packet[at++] = PUBLISH | (qos << 1);
  at += lengthBytes.copy(packet, at);
  at += topicField.copy(packet, at);
  if (qos > 0) at = packet.writeUInt16BE(packetId, at);
  packet.write(payload, at, 'utf8');
  return packet;
}

export class RawPublisher {
  readonly #socket: Socket;
  readonly #inflight = new Map<number, Callback>();
  readonly #topics = new Map<string, Buffer>();
  readonly #closeListeners: Array<() => void> = [];
  #nextId = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #closed = false;
  #ping: NodeJS.Timeout | undefined;
  #onConnack: ((returnCode: number) => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('error', () => undefined); // reported through 'close'
    socket.on('close', () => {
      this.#closed = true;
      clearInterval(this.#ping);
      const error = new Error('connection closed');
      for (const cb of this.#inflight.values()) cb(error);
      this.#inflight.clear();
      for (const listener of this.#closeListeners) listener();
    });
  }

  /** Connects and waits for a successful CONNACK. */
  static connect(options: RawConnectOptions): Promise<RawPublisher> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      const client = new RawPublisher(socket);
      const timer = setTimeout(() => fail(new Error(`no CONNACK within ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const closedEarly = () => fail(new Error('connection closed before CONNACK'));
      client.#closeListeners.push(closedEarly);
      client.#onConnack = (returnCode) => {
        clearTimeout(timer);
        client.#closeListeners.splice(client.#closeListeners.indexOf(closedEarly), 1);
        if (returnCode !== 0) return fail(new Error(`CONNACK return code ${returnCode}`));
        const keepaliveMs = (options.keepaliveS ?? 120) * 1000;
        client.#ping = setInterval(() => client.#socket.write(PINGREQ), keepaliveMs / 2);
        client.#ping.unref();
        resolve(client);
      };
      socket.once('connect', () => socket.write(connectPacket(options)));
    });
  }

  get connected(): boolean {
    return !this.#closed;
  }

  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closeListeners.push(listener);
  }

  publish(topic: string, payload: string, qos: 0 | 1, cb: Callback): void {
    if (this.#closed) return cb(new Error('connection closed'));
    let topicField = this.#topics.get(topic);
    if (!topicField) this.#topics.set(topic, (topicField = utf8Field(topic)));
    let id = 0;
    if (qos === 1) {
      do id = this.#nextId = (this.#nextId % 65_535) + 1;
      while (this.#inflight.has(id));
      this.#inflight.set(id, cb);
    }
    const written = this.#socket.write(publishPacket(topicField, payload, qos, id));
    if (qos === 0) {
      if (written) cb();
      else this.#socket.once('drain', () => cb());
    }
  }

  /** DISCONNECT and close; destroys the socket if it is not closed within timeoutMs. */
  end(timeoutMs = 2_000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#socket.destroy(), timeoutMs);
      this.onClose(() => {
        clearTimeout(timer);
        resolve();
      });
      this.#socket.end(DISCONNECT);
    });
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const buffer = this.#buffer;
      if (buffer.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let at = 1;
      let byte: number;
      do {
        if (at >= buffer.length) return; // length not complete yet
        byte = buffer[at++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
      } while (byte & 0x80 && at < 5);
      if (buffer.length < at + length) return;
      const type = buffer[0]! & 0xf0;
      const body = buffer.subarray(at, at + length);
      this.#buffer = buffer.subarray(at + length);
      if (type === CONNACK && body.length >= 2) this.#onConnack?.(body[1]!);
      else if (type === PUBACK && body.length >= 2) {
        const id = body.readUInt16BE(0);
        const cb = this.#inflight.get(id);
        this.#inflight.delete(id);
        cb?.();
      }
      // PINGRESP and anything else: ignored.
    }
  }
}
