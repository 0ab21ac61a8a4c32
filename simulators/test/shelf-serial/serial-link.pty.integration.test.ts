import { openSocatPtyPair } from '../../src/shelf-serial/socat-pty-pair.ts';
import { describeSerialShelfLink } from './serial-link.suite.ts';

// A real pseudo-terminal pair from socat (installed by .ci/run) and the real serialport binding.
describeSerialShelfLink('a socat pty pair (real binding)', async () => {
  const pty = await openSocatPtyPair();
  return { hostPath: pty.paths[0], devicePath: pty.paths[1], binding: undefined, close: () => pty.close() };
});
