import { describe, expect, it } from 'vitest';
import { isSimulatorError, SimulatorError, simulatorErrorCodes, simulatorErrors } from '../src/index.ts';

describe('simulator error catalogue', () => {
  it('each factory makes a SimulatorError whose code is its key, with a default message', () => {
    expect(simulatorErrorCodes.length).toBeGreaterThan(0);
    for (const code of simulatorErrorCodes) {
      expect(code).toMatch(/^SIM_ERR_[A-Z0-9_]+$/);
      const error = simulatorErrors[code]();
      expect(error).toBeInstanceOf(SimulatorError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(simulatorErrors[code].code).toBe(code);
      expect(error.message.length).toBeGreaterThan(0);
      expect(isSimulatorError(error, code)).toBe(true);
    }
  });

  it('keeps the message, device and cause it is given', () => {
    const cause = new Error('socket hang up');
    const error = simulatorErrors.SIM_ERR_CONNECT_FAILED('shelf-1: cannot connect', { deviceId: 'shelf-1', cause });
    expect(error.message).toBe('shelf-1: cannot connect');
    expect(error.deviceId).toBe('shelf-1');
    expect(error.cause).toBe(cause);
    expect(isSimulatorError(error, 'SIM_ERR_CONNECT_REFUSED')).toBe(false);
    expect(isSimulatorError(new Error('x'))).toBe(false);
  });
});
