import { read } from 'node:fs';
import { promisify } from 'node:util';
import type { OpenOptions } from '@serialport/stream';

/**
 * The real serial binding the drivers and the serial simulators open ports with, mended so that a
 * line that hangs up is seen as down.
 *
 * `@serialport/bindings-cpp` 13 reads a Unix port with `unixRead`, which treats a read of zero
 * bytes as "nothing yet" and reads again at once (serialport/bindings-cpp#162). A tty that was
 * hung up — a USB adapter pulled, the far end of a pty closed — reads zero bytes forever: the
 * port spins, stays "open", and no driver ever hears that its device went away. Whether a pulled
 * pty reads EIO (seen as a disconnect) or end of file (the spin) is a race in the kernel, so a
 * re-open test over socat failed about one run in eight. Here a zero-byte read is an end of file
 * with `disconnect` set: the stream closes with a DisconnectedError and the drivers re-open.
 */

/** A serialport binding: `@serialport/bindings-cpp` for real ports, `@serialport/binding-mock` in tests. */
export type SerialBinding = OpenOptions['binding'];

type ReadResult = { bytesRead: number; buffer: Buffer };
type UnixRead = (options: {
  binding: unknown;
  buffer: Buffer;
  offset: number;
  length: number;
  fsReadAsync?: (fd: number, buffer: Buffer, offset: number, length: number, position: null) => Promise<ReadResult>;
}) => Promise<ReadResult>;

const readAsync = promisify(read);

/** Reads like fs.read, but an end of file (zero bytes from a tty) is the line hanging up. */
export async function readOrHangUp(fd: number, buffer: Buffer, offset: number, length: number, position: null): Promise<ReadResult> {
  const result = await readAsync(fd, buffer, offset, length, position);
  if (result.bytesRead === 0) {
    throw Object.assign(new Error('the line hung up (the port read end of file)'), { code: 'EOF', disconnect: true });
  }
  return result;
}

let system: Promise<SerialBinding> | undefined;

/**
 * The native binding for this OS (as `serialport` auto-detects it) with hang-ups seen, loaded on
 * first use so that importing the drivers loads no native code. Its `list()` is never called:
 * on Linux it needs udevadm, and ports are named.
 */
export function systemSerialBinding(): Promise<SerialBinding> {
  system ??= (async () => {
    const { SerialPort } = await import('serialport');
    if (process.platform === 'win32') return SerialPort.binding;
    // bindings-cpp has no exports map; unixRead is the function its Linux and macOS ports read with.
    const { unixRead } = (await import('@serialport/bindings-cpp/dist/unix-read.js')) as { unixRead: UnixRead };
    return hangUpAwareBinding(SerialPort.binding, unixRead);
  })();
  return system;
}

/** `binding` with every Unix port it opens reading through `unixRead` with readOrHangUp. */
export function hangUpAwareBinding(binding: SerialBinding, unixRead: UnixRead): SerialBinding {
  return {
    list: () => binding.list(),
    async open(options) {
      const port = await binding.open(options);
      const fd = (port as { fd?: unknown }).fd;
      if (typeof fd !== 'number') return port; // not a Unix fd port: leave it be
      // The port object is the binding's own (its close, write, poller stay as they are); only
      // its read is replaced, with the same function and our end-of-file rule.
      port.read = (buffer: Buffer, offset: number, length: number) => {
        if (!port.isOpen) return Promise.reject(Object.assign(new Error('Port is not open'), { canceled: true }));
        return unixRead({ binding: port, buffer, offset, length, fsReadAsync: readOrHangUp });
      };
      return port;
    },
  };
}
