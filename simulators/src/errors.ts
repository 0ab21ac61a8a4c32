/**
 * The catalogue of simulator error codes. Every code here is listed in docs/errors.md;
 * edge-agent/test/errors.test.ts reads `simulatorErrorCodes` to tie the two together.
 */
export class SimulatorError extends Error {
  readonly code: SimulatorErrorCode;
  /** The simulated device the error is about, when there is one. */
  readonly deviceId: string | undefined;

  constructor(code: SimulatorErrorCode, message: string, options?: { cause?: unknown; deviceId?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SimulatorError';
    this.code = code;
    this.deviceId = options?.deviceId;
  }
}

export interface SimulatorErrorOptions {
  cause?: unknown;
  deviceId?: string;
}

/** Each code with the message an error gets when the caller gives none. */
const defaultMessages = {
  /** start(): the broker answered CONNECT with a refusal (CONNACK ≠ 0), e.g. a wrong password. */
  SIM_ERR_CONNECT_REFUSED: 'the broker refused the connection',
  /** start(): the broker could not be reached, or the connection closed before CONNACK. */
  SIM_ERR_CONNECT_FAILED: 'could not connect to the broker',
  /** start(): the broker refused the subscription to the device's own commands (SUBACK 0x80). */
  SIM_ERR_SUBSCRIBE_DENIED: 'the broker refused the command subscription',
  /** After start(): the connection dropped; the client retries on its own. */
  SIM_ERR_CONNECTION_LOST: 'the connection to the broker was lost',
  /** An operation that needs a running simulator was called before start() or after stop(). */
  SIM_ERR_NOT_STARTED: 'the simulator is not started',
  /** start() was called on a simulator that was already started (simulators are single-use). */
  SIM_ERR_ALREADY_STARTED: 'the simulator was already started',
  /** A publish failed or its connection closed before the PUBACK. */
  SIM_ERR_PUBLISH_FAILED: 'publish failed',
  /** An outgoing event does not match the device contract (device-drivers payloads.ts). */
  SIM_ERR_PAYLOAD_INVALID: 'event payload does not match the device contract',
  /** A received command is not JSON, or not the shape its type needs; it is counted and dropped. */
  SIM_ERR_COMMAND_INVALID: 'command payload is not valid',
  /** A scheduled task (sampling, check-in, shopper step) threw; it keeps running on its next tick. */
  SIM_ERR_TASK_FAILED: 'a scheduled simulator task failed',
  /** Simulator options are not valid; the message names the option. */
  SIM_ERR_CONFIG_INVALID: 'simulator options are not valid',
  /** A method argument is not valid (unknown channel or tag, more grams removed than on the tray, …). */
  SIM_ERR_ARGUMENT_INVALID: 'argument is not valid',
} as const;

export type SimulatorErrorCode = keyof typeof defaultMessages;

export type SimulatorErrorFactory = ((message?: string, options?: SimulatorErrorOptions) => SimulatorError) & {
  readonly code: SimulatorErrorCode;
};

function defineError(code: SimulatorErrorCode): SimulatorErrorFactory {
  const factory = (message?: string, options?: SimulatorErrorOptions) =>
    new SimulatorError(code, message ?? defaultMessages[code], options);
  return Object.assign(factory, { code });
}

/** One factory per code: `simulatorErrors.SIM_ERR_NOT_STARTED('…', { deviceId })`. */
export const simulatorErrors = Object.freeze(
  Object.fromEntries(Object.keys(defaultMessages).map((code) => [code, defineError(code as SimulatorErrorCode)])),
) as { readonly [C in SimulatorErrorCode]: SimulatorErrorFactory };

/** Every SIM_ERR_* code, for the docs cross-check. */
export const simulatorErrorCodes: readonly SimulatorErrorCode[] = Object.freeze(
  Object.keys(defaultMessages) as SimulatorErrorCode[],
);

export function isSimulatorError(error: unknown, code?: SimulatorErrorCode): error is SimulatorError {
  return error instanceof SimulatorError && (code === undefined || error.code === code);
}

/** The default error sink: one JSON line on stderr, like the agent's pino lines. */
export function logSimulatorError(error: SimulatorError): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'warn', time: Date.now(), msg: error.message, code: error.code, deviceId: error.deviceId })}\n`,
  );
}
