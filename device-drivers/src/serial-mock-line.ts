import { createRequire } from 'node:module';
import type { OpenOptions } from '@serialport/stream';
import type { SerialPortMock } from 'serialport';

type BindingPort = Awaited<ReturnType<OpenOptions['binding']['open']>>;
export type MockSerialBinding = typeof SerialPortMock.binding;
export type MockSerialPort = Awaited<ReturnType<MockSerialBinding['open']>>;

/**
 * `@serialport/binding-mock`'s MockBinding, for tests: `mockSerialBinding.createPort(path)`, then
 * open `path` with it. This is the package's CommonJS instance, the one serialport's SerialPortMock
 * uses; its ESM entry is a second instance with its own ports (and ships no types), so tests take
 * the binding from here rather than importing the package.
 */
export const mockSerialBinding: MockSerialBinding = (
  createRequire(import.meta.url)('@serialport/binding-mock') as { MockBinding: MockSerialBinding }
).MockBinding;

/**
 * A binding-mock port with a far end: bytes written here go to `sent()` (a device model, the
 * other end of a mock cable), bytes from the far end arrive by `deliver()`, and `cut()` ends the
 * line so that pending and later reads fail the way a lost device does (the stream then reports
 * a disconnection). Everything else passes through to the mock port, whose rules still hold
 * (one opener per path, no overlapping writes).
 */
export abstract class MockLinePort implements BindingPort {
  protected readonly inner: MockSerialPort;
  readonly #cutOff: Promise<never>;
  #cut: ((error: Error) => void) | undefined;

  constructor(inner: MockSerialPort) {
    this.inner = inner;
    this.#cutOff = new Promise<never>((_resolve, reject) => (this.#cut = reject));
    this.#cutOff.catch(() => undefined);
  }

  /** Bytes this end wrote, for the far end. */
  protected abstract sent(bytes: Buffer): void;
  /** Called before the port closes. */
  protected abstract closing(): void;

  get openOptions(): BindingPort['openOptions'] {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  /** Bytes from the far end (dropped while this end is closed, as on a real line). */
  deliver(bytes: Buffer): void {
    if (this.inner.isOpen) this.inner.emitData(bytes);
  }

  /** Ends the line: not `canceled`, so the stream treats it as a lost device. */
  protected cut(error: Error): void {
    this.#cut?.(error);
  }

  async close(): Promise<void> {
    this.closing();
    await this.inner.close();
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    return Promise.race([this.inner.read(buffer, offset, length), this.#cutOff]);
  }

  async write(buffer: Buffer): Promise<void> {
    await this.inner.write(buffer);
    this.sent(Buffer.from(buffer));
  }

  update(options: Parameters<BindingPort['update']>[0]): Promise<void> {
    return this.inner.update(options);
  }

  set(options: Parameters<BindingPort['set']>[0]): Promise<void> {
    return this.inner.set(options);
  }

  get(): ReturnType<BindingPort['get']> {
    return this.inner.get();
  }

  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  drain(): Promise<void> {
    return this.inner.drain();
  }
}
