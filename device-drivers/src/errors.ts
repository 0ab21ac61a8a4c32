/**
 * The catalogue of driver error codes (DRV_ERR_*). Every code here is listed in docs/errors.md;
 * edge-agent/test/errors.test.ts reads `driverErrorCodes` to tie the two together.
 *
 * Drivers never throw on bad device input: decoders return a reject with one of these codes,
 * the I/O shell counts it (per device and code) and carries on with the next frame or message.
 */
export class DriverError extends Error {
  readonly code: DriverErrorCode;
  constructor(code: DriverErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DriverError';
    this.code = code;
  }
}

/** Each code with the message an error gets when the caller gives none. */
const defaultMessages = {
  /** A serial frame's checksum or CRC does not match its bytes; the frame is dropped and the parser resyncs. */
  DRV_ERR_FRAME_CHECKSUM: 'frame checksum mismatch',
  /** A serial frame is not well formed (bad header, length, type or end byte); dropped, parser resyncs. */
  DRV_ERR_FRAME_MALFORMED: 'malformed frame',
  /** A frame announced more bytes than the protocol allows; dropped, parser resyncs. */
  DRV_ERR_FRAME_TOO_LONG: 'frame too long',
  /** Frames were lost between two received ones (their sequence numbers skip). */
  DRV_ERR_FRAME_SEQUENCE_GAP: 'frames missing in sequence',
  /** A tag's EPC memory fails its Gen2 CRC-16; the read is dropped. */
  DRV_ERR_TAG_CRC: 'tag CRC-16 mismatch',
  /** An EPC claims a GS1 scheme (e.g. SGTIN) but its fields are invalid (partition, lengths, characters). */
  DRV_ERR_EPC_INVALID: 'EPC is not valid for its scheme',
  /** A device answered a command with an error response. */
  DRV_ERR_DEVICE_ERROR: 'the device reported an error',
  /** A vendor JSON message is not JSON. */
  DRV_ERR_JSON_MALFORMED: 'message is not JSON',
  /** A vendor JSON message does not have the shape its format needs; the message names the field. */
  DRV_ERR_JSON_SCHEMA: 'message does not match the vendor format',
  /** A serial port could not be opened, or closed under the driver. */
  DRV_ERR_PORT: 'serial port failure',
  /** A measurement names a tray, channel or antenna the store model does not have. */
  DRV_ERR_UNKNOWN_CHANNEL: 'no such channel in the store model',
  /** A load-cell channel reported saturation or an ADC error, or reads outside the canonical range; that channel is left out of the sample. */
  DRV_ERR_CHANNEL_FAULT: 'load-cell channel fault',
  /** A command sent to a device got neither an ack nor an error response in time. */
  DRV_ERR_COMMAND_TIMEOUT: 'command timed out',
  /** Driver options are not valid; the message names the option. */
  DRV_ERR_CONFIG_INVALID: 'driver options are not valid',
  /** A camera frame's header is wrong: too short, not the storeedge frame magic, an unknown version or flags, or a timestamp past 2^53 − 1 ms. */
  DRV_ERR_CAMERA_FRAME_MALFORMED: 'camera frame header is malformed',
  /** A camera frame is larger than the frame size limit (`maxFrameBytes`, default 512 KiB). */
  DRV_ERR_CAMERA_FRAME_TOO_LARGE: 'camera frame is too large',
  /** A camera frame's body is not a JPEG (no SOI/EOI markers) or cannot be decoded (corrupt or truncated data). */
  DRV_ERR_CAMERA_JPEG_INVALID: 'camera frame is not a decodable JPEG',
  /** A camera frame's image size differs from the camera's calibration (width × height). */
  DRV_ERR_CAMERA_FRAME_SIZE: 'camera frame size does not match the calibration',
  /** A camera frame is older than the camera's ring buffer window, or repeats the timestamp of a frame already held. */
  DRV_ERR_CAMERA_FRAME_STALE: 'camera frame is stale or a duplicate',
  /** A camera frame waiting for validation was dropped because the camera's ingest queue was full (the oldest waiting frame goes). */
  DRV_ERR_CAMERA_FRAME_DROPPED: 'camera frame dropped: ingest queue full',
  /** A frame came from a camera the agent has no calibration for, so no size check or pixel mapping is possible. */
  DRV_ERR_CAMERA_UNCALIBRATED: 'camera has no calibration',
} as const;

export type DriverErrorCode = keyof typeof defaultMessages;

export type DriverErrorFactory = ((message?: string, options?: { cause?: unknown }) => DriverError) & { readonly code: DriverErrorCode };

function defineError(code: DriverErrorCode): DriverErrorFactory {
  const factory = (message?: string, options?: { cause?: unknown }) => new DriverError(code, message ?? defaultMessages[code], options);
  return Object.assign(factory, { code });
}

/** One factory per code: `driverErrors.DRV_ERR_FRAME_CHECKSUM('…')`. */
export const driverErrors = Object.freeze(
  Object.fromEntries(Object.keys(defaultMessages).map((code) => [code, defineError(code as DriverErrorCode)])),
) as { readonly [C in DriverErrorCode]: DriverErrorFactory };

/** Every DRV_ERR_* code, for the docs cross-check. */
export const driverErrorCodes: readonly DriverErrorCode[] = Object.freeze(Object.keys(defaultMessages) as DriverErrorCode[]);

/** What a decoder returns for input it refuses: a code and a reason, never a throw. */
export interface Reject {
  code: DriverErrorCode;
  reason: string;
}
