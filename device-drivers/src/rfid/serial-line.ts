import { SerialPortStream } from '@serialport/stream';
import { systemSerialBinding, type SerialBinding } from '../serial-binding.ts';
import { MockLinePort, mockSerialBinding, type MockSerialPort } from '../serial-mock-line.ts';

/**
 * Serial plumbing shared by the RFID reader shell and the serial device simulators: open a port
 * through an injected binding, and connect a device model to either end of a line (a real port
 * such as a pty, or a binding-mock port).
 */

export type { SerialBinding } from '../serial-binding.ts';
type SerialBindingPort = Awaited<ReturnType<SerialBinding['open']>>;

export { mockSerialBinding, type MockSerialBinding } from '../serial-mock-line.ts';

export interface SerialPortOptions {
  path: string;
  /** Default 115200 (M100 modules ship at 115200 8N1). */
  baudRate?: number;
  /** Default: systemSerialBinding() (bindings-cpp, a hung-up line seen as down: serial-binding.ts). */
  binding?: SerialBinding;
}

/** Opens a port and resolves once it is open; rejects with the binding's error. */
export async function openSerialPort(options: SerialPortOptions): Promise<SerialPortStream> {
  const binding = options.binding ?? (await systemSerialBinding());
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

/** A mock port whose far end is a device model. */
class DeviceLinkedPort extends MockLinePort {
  readonly #device: SerialDevice;
  #linked = true;

  constructor(inner: MockSerialPort, device: SerialDevice) {
    super(inner);
    this.#device = device;
    device.connect({
      send: (bytes) => {
        if (this.#linked) this.deliver(Buffer.from(bytes));
      },
      hangUp: () => {
        if (!this.#linked) return;
        this.#unlink();
        this.cut(new Error('the device hung up'));
      },
    });
  }

  protected sent(bytes: Buffer): void {
    if (this.#linked) this.#device.receive(bytes);
  }

  protected closing(): void {
    this.#unlink();
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
