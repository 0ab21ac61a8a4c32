import { createRequire } from 'node:module';
import { SerialPortStream, type OpenOptions } from '@serialport/stream';
import type { SerialPortMock } from 'serialport';

/**
 * Serial plumbing shared by the RFID reader shell and the serial device simulators: open a port
 * through an injected binding, and connect a device model to either end of a line (a real port
 * such as a pty, or a binding-mock port).
 */

/** A serialport binding: `@serialport/bindings-cpp` (real ports) or `@serialport/binding-mock`. */
export type SerialBinding = OpenOptions['binding'];
type SerialBindingPort = Awaited<ReturnType<SerialBinding['open']>>;

export type MockSerialBinding = typeof SerialPortMock.binding;
type MockSerialPort = Awaited<ReturnType<MockSerialBinding['open']>>;

/**
 * `@serialport/binding-mock`'s MockBinding, for tests: `mockSerialBinding.createPort(path)`, then
 * open `path` with it. This is the package's CommonJS instance, the one serialport's SerialPortMock
 * uses; its ESM entry is a second instance with its own ports (and ships no types), so tests take
 * the binding from here rather than importing the package.
 */
export const mockSerialBinding: MockSerialBinding = (
  createRequire(import.meta.url)('@serialport/binding-mock') as { MockBinding: MockSerialBinding }
).MockBinding;

/**
 * The real binding (`@serialport/bindings-cpp`, auto-detected for this OS), loaded on first use
 * so that importing the drivers does not load native code. Never call its `list()`: on Linux it
 * needs udevadm; drivers take explicit paths.
 */
export async function defaultSerialBinding(): Promise<SerialBinding> {
  const { SerialPort } = await import('serialport');
  return SerialPort.binding;
}

export interface SerialPortOptions {
  path: string;
  /** Default 115200 (M100 modules ship at 115200 8N1). */
  baudRate?: number;
  /** Default: defaultSerialBinding(). */
  binding?: SerialBinding;
}

/** Opens a port and resolves once it is open; rejects with the binding's error. */
export async function openSerialPort(options: SerialPortOptions): Promise<SerialPortStream> {
  const binding = options.binding ?? (await defaultSerialBinding());
  const port = new SerialPortStream({ binding, path: options.path, baudRate: options.baudRate ?? 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  return port;
}

/** What a device model sees of the line it sits on. */
export interface SerialLine {
  /** Sends bytes to the host. Dropped when the line is down. */
  send(bytes: Uint8Array): void;
  /** Drops the line from the device side (a cable pulled, a module reset). */
  hangUp(): void;
}

/** A simulated serial device: bytes in from the host, bytes out through its line. */
export interface SerialDevice {
  /** The host opened the port (mock) or the device was attached to a port (real). */
  connect(line: SerialLine): void;
  /** Bytes the host wrote. */
  receive(bytes: Buffer): void;
  /** The line went down, from either side. */
  disconnect(): void;
}

/**
 * A binding whose ports are binding-mock ports (make each with `mockSerialBinding.createPort(path)`)
 * with `device` at the other end: what the host writes reaches `device.receive`, what the device
 * sends is read by the host. binding-mock's rules hold: one opener per path, no overlapping
 * writes. One device serves one open port at a time.
 */
export function deviceMockBinding(device: SerialDevice): SerialBinding {
  return {
    list: () => mockSerialBinding.list(),
    async open(options) {
      const port = await mockSerialBinding.open(options);
      return new DeviceLinkedPort(port, device);
    },
  };
}

class DeviceLinkedPort implements SerialBindingPort {
  readonly #inner: MockSerialPort;
  readonly #device: SerialDevice;
  /** Rejects pending reads when the device hangs up; the stream then reports a disconnection. */
  #hangUp: ((error: Error) => void) | undefined;
  readonly #hungUp: Promise<never>;
  #linked = true;

  constructor(inner: MockSerialPort, device: SerialDevice) {
    this.#inner = inner;
    this.#device = device;
    this.#hungUp = new Promise<never>((_resolve, reject) => {
      this.#hangUp = reject;
    });
    this.#hungUp.catch(() => undefined);
    device.connect({
      send: (bytes) => {
        if (this.#linked && inner.isOpen) inner.emitData(Buffer.from(bytes));
      },
      hangUp: () => {
        if (!this.#linked) return;
        this.#unlink();
        this.#hangUp?.(new Error('the device hung up'));
      },
    });
  }

  get openOptions() {
    return this.#inner.openOptions;
  }

  get isOpen(): boolean {
    return this.#inner.isOpen;
  }

  async close(): Promise<void> {
    this.#unlink();
    await this.#inner.close();
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    return Promise.race([this.#inner.read(buffer, offset, length), this.#hungUp]);
  }

  async write(buffer: Buffer): Promise<void> {
    await this.#inner.write(buffer);
    if (this.#linked) this.#device.receive(Buffer.from(buffer));
  }

  update(options: Parameters<SerialBindingPort['update']>[0]): Promise<void> {
    return this.#inner.update(options);
  }

  set(options: Parameters<SerialBindingPort['set']>[0]): Promise<void> {
    return this.#inner.set(options);
  }

  get(): ReturnType<SerialBindingPort['get']> {
    return this.#inner.get();
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return this.#inner.getBaudRate();
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  drain(): Promise<void> {
    return this.#inner.drain();
  }

  #unlink(): void {
    if (!this.#linked) return;
    this.#linked = false;
    this.#device.disconnect();
  }
}

/** A device attached to a real port (e.g. one end of a socat pty pair). */
export interface AttachedSerialDevice {
  readonly port: SerialPortStream;
  /** Closes the port; the device is disconnected. */
  close(): Promise<void>;
}

/**
 * Opens `options.path` and puts `device` on it: bytes read go to `device.receive`, the device's
 * `send` writes to the port. A hang-up from the device closes the port.
 */
export async function attachSerialDevice(device: SerialDevice, options: SerialPortOptions): Promise<AttachedSerialDevice> {
  const port = await openSerialPort(options);
  let attached = true;
  const detach = () => {
    if (!attached) return;
    attached = false;
    device.disconnect();
  };
  const close = () =>
    new Promise<void>((resolve) => {
      detach();
      if (!port.isOpen) return resolve();
      port.close(() => resolve());
    });
  port.on('data', (chunk: Buffer) => {
    if (attached) device.receive(chunk);
  });
  port.on('close', detach);
  // Errors on a simulator's port end its session; the device sees a disconnect.
  port.on('error', () => void close());
  device.connect({
    send: (bytes) => {
      if (attached && port.isOpen) port.write(Buffer.from(bytes));
    },
    hangUp: () => void close(),
  });
  return { port, close };
}
