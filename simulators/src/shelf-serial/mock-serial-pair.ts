import { createRequire } from 'node:module';
import type { SerialPortMock } from 'serialport';
import type { ShelfSerialBinding } from '@storeedge/device-drivers';

/**
 * `@serialport/binding-mock`'s `MockBinding`, loaded the way `serialport` loads it (CommonJS), so
 * there is one mock port registry per process: importing the package as an ES module loads a
 * second copy with its own registry. Tests create and reset mock ports through this object.
 * (Not taken from `serialport`'s `SerialPortMock`: importing `serialport` loads the native
 * binding, which the simulators should only load when a real port is opened.)
 */
export const mockSerialBinding: typeof SerialPortMock.binding = (
  createRequire(import.meta.url)('@serialport/binding-mock') as { MockBinding: typeof SerialPortMock.binding }
).MockBinding;

type MockPort = Awaited<ReturnType<typeof mockSerialBinding.open>>;
type BindingPort = Awaited<ReturnType<ShelfSerialBinding['open']>>;

export interface MockSerialPair {
  /** Open either path through this binding; bytes written on one end are read on the other. */
  readonly binding: ShelfSerialBinding;
  readonly paths: readonly [string, string];
  /** Pulls the cable at one end: that end's pending read fails and the port reports a disconnect. */
  unplug(path: string): void;
}

/**
 * Two binding-mock ports joined by a null-modem cable, the in-memory twin of a socat pty pair:
 * a host driver opens one path and a device simulator the other, each through the same code it
 * uses on real ports. binding-mock's rules still hold (one opener per path, no overlapping
 * writes); bytes written while the far end is closed are lost, as on a real line.
 */
export function createMockSerialPair(paths: readonly [string, string] = ['/dev/mock-shelf-host', '/dev/mock-shelf-device']): MockSerialPair {
  const [a, b] = paths;
  if (a === b) throw new Error('a mock serial pair needs two different paths');
  for (const path of paths) mockSerialBinding.createPort(path);
  const open = new Map<string, CrossedPort>();
  const binding: ShelfSerialBinding = {
    list: () => mockSerialBinding.list(),
    async open(options) {
      const inner = await mockSerialBinding.open(options);
      const path = options.path;
      const port: CrossedPort = new CrossedPort(
        inner,
        () => open.get(path === a ? b : a),
        () => open.get(path) === port && open.delete(path),
      );
      open.set(path, port);
      return port;
    },
  };
  return {
    binding,
    paths,
    unplug(path) {
      open.get(path)?.unplug();
    },
  };
}

class CrossedPort implements BindingPort {
  readonly #inner: MockPort;
  readonly #peer: () => CrossedPort | undefined;
  readonly #onClose: () => unknown;
  readonly #unplugged: Promise<never>;
  #pull: ((error: Error) => void) | undefined;

  constructor(inner: MockPort, peer: () => CrossedPort | undefined, onClose: () => unknown) {
    this.#inner = inner;
    this.#peer = peer;
    this.#onClose = onClose;
    this.#unplugged = new Promise<never>((_resolve, reject) => (this.#pull = reject));
    this.#unplugged.catch(() => undefined);
  }

  get openOptions(): BindingPort['openOptions'] {
    return this.#inner.openOptions;
  }

  get isOpen(): boolean {
    return this.#inner.isOpen;
  }

  /** Bytes from the far end. */
  deliver(bytes: Buffer): void {
    if (this.#inner.isOpen) this.#inner.emitData(bytes);
  }

  unplug(): void {
    // Not `canceled`: the stream treats it as a lost device and closes with a disconnect error.
    this.#pull?.(new Error('mock serial cable unplugged'));
  }

  async close(): Promise<void> {
    this.#onClose();
    await this.#inner.close();
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    return Promise.race([this.#inner.read(buffer, offset, length), this.#unplugged]);
  }

  async write(buffer: Buffer): Promise<void> {
    await this.#inner.write(buffer);
    this.#peer()?.deliver(Buffer.from(buffer));
  }

  update(options: Parameters<BindingPort['update']>[0]): Promise<void> {
    return this.#inner.update(options);
  }

  set(options: Parameters<BindingPort['set']>[0]): Promise<void> {
    return this.#inner.set(options);
  }

  get(): ReturnType<BindingPort['get']> {
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
}
