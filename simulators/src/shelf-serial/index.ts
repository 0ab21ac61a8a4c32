export * from './serial-shelf-simulator.ts';
export * from './mock-serial-pair.ts';
export * from './socat-pty-pair.ts';
