export * from './crc16.ts';
export * from './frame.ts';
export * from './frame-parser.ts';
export * from './calibration.ts';
export * from './shelf-json.ts';
export * from './serial-controller.ts';
