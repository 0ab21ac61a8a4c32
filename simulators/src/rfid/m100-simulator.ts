import {
  attachSerialDevice,
  decodeM100Message,
  M100Command,
  M100_ERROR_INVALID_COMMAND,
  M100_ERROR_INVALID_PARAMETER,
  M100_ERROR_NO_TAG,
  M100FrameParser,
  M100Region,
  m100InfoKinds,
  m100Responses,
  type AttachedSerialDevice,
  type M100RegionName,
  type SerialBinding,
  type SerialDevice,
  type SerialLine,
} from '@storeedge/device-drivers';
import { realClock, type Clock, type TimerHandle } from '../clock.ts';
import { simulatorErrors } from '../errors.ts';
import { Rng } from '../random.ts';
import type { RfidField, TagSighting } from './field.ts';

export interface M100ReaderSimulatorOptions {
  /** The tags and where they are; may be shared with other simulated readers. */
  field: RfidField;
  /** The zone the module's one antenna covers. */
  zone: string;
  /** Zones it can cross-read into. */
  neighbours?: readonly string[];
  /** Drives inventory rounds. Default wall time. */
  clock?: Clock;
  /** Default: a stream seeded from the zone. */
  rng?: Rng;
  /** One inventory round takes this long. Default 50 ms (tens of rounds per second, like the real module). */
  roundMs?: number;
  /** Answers to "get module info" (0x03). */
  info?: Partial<Record<(typeof m100InfoKinds)[number], string>>;
  /** Line faults on what the module sends: the probability that a frame gets one byte damaged. Default 0. */
  corruptFrameRate?: number;
  /** The probability that 1-8 stray bytes go out before a frame. Default 0. */
  noiseRate?: number;
  /** Called for every tag notice sent; `intact` is false when the line damaged it (ground truth). */
  onTagSent?: (sighting: TagSighting, intact: boolean) => void;
}

export interface M100ReaderSimulatorStats {
  /** Command frames understood, and frames or bytes from the host that were not (a module ignores them). */
  commands: number;
  badFrames: number;
  rounds: number;
  tagNotices: number;
  crossReads: number;
  /** Frames the line damaged and stray bytes it added. */
  corruptedFrames: number;
  noiseBytes: number;
  /** Error responses sent (no tag, invalid command or parameter). */
  errors: number;
}

const DEFAULT_INFO = { hardware: 'M100 26dBm V1.0', software: 'V2.3.5', manufacturer: 'MagicRF (storeedge simulator)' };

/**
 * A MagicRF M100 module on a serial line. It answers commands the way research/rfid.md §1.1
 * describes: single poll, multi-poll with a round count, stop, module info, TX power, region;
 * an unknown command gets error 0x17. During a multi-poll it runs one inventory round per
 * `roundMs` on its clock and sends a tag notice for each tag of the field that answers, own zone
 * and cross-reads alike, until the count runs out or a stop arrives.
 *
 * Attach it to a real port (`open(path)`, e.g. one end of a socat pty pair) or give it to
 * `deviceMockBinding` to sit behind a binding-mock port.
 */
export class M100ReaderSimulator implements SerialDevice {
  readonly zone: string;
  readonly #field: RfidField;
  readonly #neighbours: readonly string[];
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #roundMs: number;
  readonly #info: Record<(typeof m100InfoKinds)[number], string>;
  readonly #corruptFrameRate: number;
  readonly #noiseRate: number;
  readonly #onTagSent: ((sighting: TagSighting, intact: boolean) => void) | undefined;
  readonly #parser = new M100FrameParser();

  #line: SerialLine | undefined;
  #attached: AttachedSerialDevice | undefined;
  #inventory: { timer: TimerHandle; remaining: number } | undefined;
  #txPowerCdbm = 2_600;
  #region: M100RegionName = 'EU';
  readonly #stats: M100ReaderSimulatorStats = {
    commands: 0,
    badFrames: 0,
    rounds: 0,
    tagNotices: 0,
    crossReads: 0,
    corruptedFrames: 0,
    noiseBytes: 0,
    errors: 0,
  };

  constructor(options: M100ReaderSimulatorOptions) {
    const rate = (name: string, value: number) => {
      if (!(value >= 0 && value <= 1)) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`M100 simulator: ${name} ${value} must be in [0, 1]`);
      return value;
    };
    this.zone = options.zone;
    this.#field = options.field;
    this.#neighbours = options.neighbours ?? [];
    this.#clock = options.clock ?? realClock;
    this.#rng = options.rng ?? new Rng(`m100/${options.zone}`);
    this.#roundMs = options.roundMs ?? 50;
    if (!(this.#roundMs >= 1)) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`M100 simulator: roundMs ${this.#roundMs} must be >= 1`);
    this.#info = { ...DEFAULT_INFO, ...options.info };
    this.#corruptFrameRate = rate('corruptFrameRate', options.corruptFrameRate ?? 0);
    this.#noiseRate = rate('noiseRate', options.noiseRate ?? 0);
    this.#onTagSent = options.onTagSent;
  }

  /** True while a multi-poll runs. */
  get inventoryRunning(): boolean {
    return this.#inventory !== undefined;
  }

  get connected(): boolean {
    return this.#line !== undefined;
  }

  get txPowerDbm(): number {
    return this.#txPowerCdbm / 100;
  }

  get region(): M100RegionName {
    return this.#region;
  }

  stats(): M100ReaderSimulatorStats {
    return { ...this.#stats };
  }

  /** Opens a real serial port (a pty end) and answers on it. */
  async open(path: string, options: { binding?: SerialBinding; baudRate?: number } = {}): Promise<void> {
    if (this.#attached !== undefined) throw simulatorErrors.SIM_ERR_ALREADY_STARTED(`M100 simulator is already on ${this.#attached.port.path}`);
    this.#attached = await attachSerialDevice(this, { path, ...options });
  }

  /** Closes the port opened by open(). */
  async close(): Promise<void> {
    const attached = this.#attached;
    this.#attached = undefined;
    await attached?.close();
  }

  /** Drops the line from the module's side (a cable pulled): the host sees the port go. */
  unplug(): void {
    this.#line?.hangUp();
  }

  // SerialDevice

  connect(line: SerialLine): void {
    this.#line = line;
    this.#parser.reset();
  }

  disconnect(): void {
    this.#line = undefined;
    this.#stopInventory();
  }

  receive(bytes: Buffer): void {
    for (const event of this.#parser.push(bytes)) {
      if (event.kind === 'reject') {
        this.#stats.badFrames++;
        continue;
      }
      const result = decodeM100Message(event.frame);
      if (!result.ok || result.message.kind !== 'command') {
        this.#stats.badFrames++; // only commands travel host → module
        continue;
      }
      this.#stats.commands++;
      this.#onCommand(result.message.command, result.message.params);
    }
  }

  /** One handler per command code; anything else is "invalid command". */
  #onCommand(code: number, params: Buffer): void {
    switch (code) {
      case M100Command.singlePoll:
        this.#clock.setTimeout(() => {
          if (this.#round() === 0) this.#sendError(M100_ERROR_NO_TAG);
        }, this.#roundMs);
        return;
      case M100Command.multiPoll: {
        if (params.length !== 3 || params[0] !== 0x22) return this.#sendError(M100_ERROR_INVALID_PARAMETER);
        const count = params.readUInt16BE(1);
        if (count === 0) return this.#sendError(M100_ERROR_INVALID_PARAMETER);
        this.#startInventory(count);
        return;
      }
      case M100Command.stopMultiPoll:
        this.#stopInventory();
        this.#send(m100Responses.stopped());
        return;
      case M100Command.moduleInfo: {
        const kind = m100InfoKinds[params[0] ?? 0xff];
        if (params.length !== 1 || kind === undefined) return this.#sendError(M100_ERROR_INVALID_PARAMETER);
        this.#send(m100Responses.moduleInfo(kind, this.#info[kind]));
        return;
      }
      case M100Command.setTxPower:
        if (params.length !== 2) return this.#sendError(M100_ERROR_INVALID_PARAMETER);
        this.#txPowerCdbm = params.readUInt16BE(0);
        this.#send(m100Responses.ack(M100Command.setTxPower));
        return;
      case M100Command.getTxPower:
        this.#send(m100Responses.txPower(this.txPowerDbm));
        return;
      case M100Command.setRegion: {
        const region = (Object.keys(M100Region) as M100RegionName[]).find((name) => M100Region[name] === params[0]);
        if (params.length !== 1 || region === undefined) return this.#sendError(M100_ERROR_INVALID_PARAMETER);
        this.#region = region;
        this.#send(m100Responses.ack(M100Command.setRegion));
        return;
      }
      case M100Command.getRegion:
        this.#send(m100Responses.region(this.#region));
        return;
      default:
        this.#sendError(M100_ERROR_INVALID_COMMAND);
    }
  }

  /** A new multi-poll replaces a running one (its count starts over). */
  #startInventory(count: number): void {
    this.#stopInventory();
    const timer = this.#clock.setInterval(() => {
      const inventory = this.#inventory;
      if (inventory === undefined) return;
      this.#round();
      inventory.remaining--;
      if (inventory.remaining <= 0) this.#stopInventory();
    }, this.#roundMs);
    this.#inventory = { timer, remaining: count };
  }

  #stopInventory(): void {
    if (this.#inventory === undefined) return;
    this.#clock.clearInterval(this.#inventory.timer);
    this.#inventory = undefined;
  }

  /** One inventory round: a notice per tag that answers. Returns how many answered. */
  #round(): number {
    if (this.#line === undefined) return 0;
    this.#stats.rounds++;
    const sightings = this.#field.inventory({ antenna: 1, zone: this.zone, neighbours: this.#neighbours }, this.#rng);
    for (const sighting of sightings) {
      this.#stats.tagNotices++;
      if (sighting.crossRead) this.#stats.crossReads++;
      const intact = this.#send(m100Responses.tagNotice({ epc: sighting.epc, rssi: sighting.rssi, pc: sighting.pc }));
      this.#onTagSent?.(sighting, intact);
    }
    return sightings.length;
  }

  #sendError(code: number): void {
    this.#stats.errors++;
    this.#send(m100Responses.error(code));
  }

  /** Sends a frame through the line's faults; returns false when the frame was damaged. */
  #send(frame: Buffer): boolean {
    const line = this.#line;
    if (line === undefined) return false;
    if (this.#noiseRate > 0 && this.#rng.chance(this.#noiseRate)) {
      const noise = Buffer.from(Array.from({ length: this.#rng.int(1, 8) }, () => this.#rng.int(0, 255)));
      this.#stats.noiseBytes += noise.length;
      line.send(noise);
    }
    if (this.#corruptFrameRate > 0 && this.#rng.chance(this.#corruptFrameRate)) {
      const damaged = Buffer.from(frame);
      // Any byte after the header: a changed header would only turn the frame into stray bytes.
      const at = this.#rng.int(1, damaged.length - 1);
      damaged[at] = (damaged[at]! + this.#rng.int(1, 255)) & 0xff;
      this.#stats.corruptedFrames++;
      line.send(damaged);
      return false;
    }
    line.send(frame);
    return true;
  }
}
