import { openSerialPort } from '@storeedge/device-drivers';
import { describe, expect, it } from 'vitest';
import { openSocatPtyPair } from '../../src/shelf-serial/socat-pty-pair.ts';

/**
 * A line that hangs up must close the port it was open on. With @serialport/bindings-cpp as
 * published, a hung-up tty reads zero bytes and the binding reads again at once, forever
 * (serialport/bindings-cpp#162): the port stays "open" and no driver hears that its device went
 * away. The drivers' binding (device-drivers/src/serial-binding.ts) takes the end of file as a
 * disconnect.
 */
describe('serial line hang-up over a socat pty pair', () => {
  it('a port whose far end went away before its first read closes as disconnected', async () => {
    const pty = await openSocatPtyPair();
    const port = await openSerialPort({ path: pty.paths[0] });
    try {
      // socat has exited when close() resolves: the kernel has hung the pty up. Nothing has read yet.
      await pty.close();
      const closed = new Promise<(Error & { disconnected?: boolean }) | null>((resolve) => port.once('close', resolve));
      port.on('data', () => undefined); // the first read
      const error = await closed;
      expect(error?.disconnected).toBe(true);
      expect(port.isOpen).toBe(false);
    } finally {
      if (port.isOpen) await new Promise((resolve) => port.close(resolve));
    }
  });
});
