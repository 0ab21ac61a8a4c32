import { MockLinePort, mockSerialBinding, type MockSerialPort, type ShelfSerialBinding } from '@storeedge/device-drivers';

export { mockSerialBinding };

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

/** One end of a mock null-modem cable. */
class CrossedPort extends MockLinePort {
  readonly #peer: () => CrossedPort | undefined;
  readonly #onClose: () => unknown;

  constructor(inner: MockSerialPort, peer: () => CrossedPort | undefined, onClose: () => unknown) {
    super(inner);
    this.#peer = peer;
    this.#onClose = onClose;
  }

  unplug(): void {
    this.cut(new Error('mock serial cable unplugged'));
  }

  protected sent(bytes: Buffer): void {
    this.#peer()?.deliver(bytes);
  }

  protected closing(): void {
    this.#onClose();
  }
}
