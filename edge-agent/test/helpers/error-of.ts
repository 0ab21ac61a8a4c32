import { StoreEdgeError } from '../../src/errors.ts';

/** The StoreEdgeError `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): StoreEdgeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreEdgeError) return error;
    throw error;
  }
  throw new Error('expected an error');
}
