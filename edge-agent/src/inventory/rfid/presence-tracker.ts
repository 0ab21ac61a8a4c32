import { driverErrors, type DriverErrorCode, type RfidReadsPayload, type StoreModel } from '@storeedge/device-drivers';
import { errors } from '../../errors.ts';
import type { DeviceEvent, RfidPresence } from '../../events.ts';
import { addRead, emptyEvidence, stronger, type Evidence } from './evidence.ts';
import { ExitLog, type ExitRecord } from './exit-log.ts';
import { rfidPresenceOptions, type RfidPresenceOptions, type RfidPresenceOptionsInput } from './options.ts';
import { antennaKey, zoneLayout, type ZoneLayout, type ZoneSettings } from './zone-layout.ts';

/**
 * RFID presence: raw `rfid.reads` → smoothed presence per tag and zone → `rfid.presence` events
 * (arrived, moved, departed, exited). docs/rfid-presence.md describes the rules.
 *
 * Pure and time-driven: the only clock is device time, from the reads and from `tick(now)`.
 * Reads are grouped into fixed cycles of device time; a cycle is decided once the newest time
 * seen is `latenessMs` past its end (a watermark), so batches from several readers may arrive a
 * little out of order. Exit portals are decided at once, read by read.
 */

/** Turns an EPC (upper-case hex) into GTIN + serial when it is an SGTIN; undefined for an opaque EPC. */
export type EpcDecoder = (hex: string) => { gtin?: string; serial?: string } | undefined;

/** A read refused before it could change anything (an antenna the store model does not have). */
export interface RfidReadReject {
  code: DriverErrorCode;
  message: string;
  deviceId: string;
  antenna: number;
  epc: string;
  at: number;
}

export interface RfidPresenceTrackerInit {
  model: StoreModel;
  options?: RfidPresenceOptionsInput;
  /** Default: every EPC is opaque (no GTIN). */
  decodeEpc?: EpcDecoder;
  /** Called for every presence event, after the tracker's state has changed. */
  onPresence?: (event: RfidPresence) => void;
  /** Called for every rejected read (also counted in `stats()`). */
  onReject?: (reject: RfidReadReject) => void;
  /** A throwing listener never stops the others or the tracker; it is counted and reported here. */
  onListenerError?: (error: unknown, event: RfidPresence) => void;
}

/** A tag present in a zone, as `present()` and `tag()` show it. */
export interface TagPresenceView {
  epc: string;
  gtin?: string;
  serial?: string;
  zone: string;
  /** Device time it arrived in (or moved to) this zone. */
  since: number;
  /** Device time of its latest counted read in this zone. */
  lastSeen: number;
}

/** What one `ingest()` call did with its reads. */
export interface RfidIngestResult {
  counted: number;
  duplicates: number;
  rejected: number;
  /** Reads for a cycle already decided (older than the watermark allows); only exits still use them. */
  late: number;
  belowMinRssi: number;
}

export interface RfidPresenceStats {
  reads: number;
  counted: number;
  duplicates: number;
  /** Counted reads judged cross-reads (a stronger neighbour, or far below the tag's own RSSI) and kept out of presence. */
  crossReads: number;
  rejected: number;
  rejectedByChannel: Record<string, number>;
  late: number;
  belowMinRssi: number;
  /** The decoder threw; the EPC was tracked as opaque. */
  decodeErrors: number;
  listenerErrors: number;
  events: Record<RfidPresence['kind'], number>;
  trackedTags: number;
  presentTags: number;
  exitRecords: number;
}

/** A zone's counted reads of a tag in one decided cycle that were not cross-reads. */
interface ZoneHit extends Evidence {
  cycle: number;
}

/** A zone's hits of a tag over the smoothing window, as a presence candidate (the latest hit's cycle and time). */
interface Candidate extends ZoneHit {
  zone: ZoneSettings;
  hitCount: number;
  reads: number;
}

/** Reads of a tag in a cycle that is not decided yet. */
interface OpenCycle {
  zones: Map<ZoneSettings, Evidence>;
  /** `reader#antenna#slot` already counted (duplicate suppression). */
  slots: Set<string>;
}

/** A counted read kept for exit decisions (which look back one exit window). */
interface RecentRead {
  at: number;
  zone: ZoneSettings;
  rssi: number | undefined;
  slot: string;
}

interface TagState {
  epc: string;
  gtin: string | undefined;
  serial: string | undefined;
  zone: ZoneSettings | undefined;
  since: number;
  lastSeen: number;
  /** Last decided cycle with a hit in the present zone. */
  lastHitCycle: number;
  /** p̂: EWMA of "read in the present zone this cycle". */
  readRate: number;
  /** EWMA of the per-cycle peak RSSI in the present zone: what a direct read of this tag looks like. */
  refRssi: number | undefined;
  hits: Map<ZoneSettings, ZoneHit[]>;
  open: Map<number, OpenCycle>;
  recent: RecentRead[];
  exitedAt: number | undefined;
  lastExitReadAt: number;
  /** Present in a zone since its last exit: may exit again. */
  rearmed: boolean;
  pendingExit: PendingExit | undefined;
}

/**
 * Portal reads of a tag that is present in a zone beside the portal, when RSSI cannot tell a
 * pass from a cross-read: the exit waits until that zone has been silent long enough.
 */
interface PendingExit {
  zone: ZoneSettings;
  /** Device time of the read that met the exit rule; the exit's `at` if confirmed. */
  at: number;
  /** Counted portal reads from the first of the deciding window on. */
  exit: Evidence;
  /** Counted store-zone reads after `at`. */
  store: Evidence;
}

const SWEEP_EVERY_CYCLES = 64;

export class RfidPresenceTracker {
  readonly options: Readonly<RfidPresenceOptions>;
  readonly #layout: ZoneLayout;
  readonly #decodeEpc: EpcDecoder;
  readonly #onReject: (reject: RfidReadReject) => void;
  readonly #onListenerError: (error: unknown, event: RfidPresence) => void;
  readonly #listeners = new Set<(event: RfidPresence) => void>();
  readonly #skuByGtin = new Map<string, string>();

  readonly #tags = new Map<string, TagState>();
  readonly #present = new Set<TagState>();
  readonly #openCycles = new Map<number, Set<TagState>>();
  readonly #zoneCounts = new Map<string, number>();
  readonly #gtinCounts = new Map<string, Map<string, number>>();
  readonly #exits = new ExitLog();
  readonly #pendingExits = new Set<TagState>();
  readonly #pending: RfidPresence[] = [];

  /** Newest device time seen (reads or tick). */
  #watermark = Number.NEGATIVE_INFINITY;
  /** Every cycle up to this one is decided. */
  #closedThrough = Number.NEGATIVE_INFINITY;
  #lastSweepCycle = Number.NEGATIVE_INFINITY;

  readonly #stats = {
    reads: 0,
    counted: 0,
    duplicates: 0,
    crossReads: 0,
    rejected: 0,
    late: 0,
    belowMinRssi: 0,
    decodeErrors: 0,
    listenerErrors: 0,
  };
  readonly #rejectedByChannel = new Map<string, number>();
  readonly #events: Record<RfidPresence['kind'], number> = { arrived: 0, moved: 0, departed: 0, exited: 0 };

  constructor(init: RfidPresenceTrackerInit) {
    const parsed = rfidPresenceOptions.safeParse(init.options ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw errors.EDGE_ERR_CONFIG_INVALID(`rfid presence options are invalid; fix these fields:\n${problems.join('\n')}`, {
        details: parsed.error.issues,
      });
    }
    this.options = Object.freeze(parsed.data);
    this.#layout = zoneLayout(init.model, parsed.data);
    this.#decodeEpc = init.decodeEpc ?? (() => undefined);
    this.#onReject = init.onReject ?? (() => {});
    this.#onListenerError = init.onListenerError ?? (() => {});
    if (init.onPresence) this.#listeners.add(init.onPresence);
    for (const item of init.model.catalog) if (item.rfidTagged) this.#skuByGtin.set(item.gtin, item.sku);
    for (const zone of this.#layout.zones.values()) if (!zone.exit) this.#zoneCounts.set(zone.id, 0);
  }

  /** Adds a presence listener; returns the function that removes it. */
  subscribe(listener: (event: RfidPresence) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Feeds one reader message (`rfid.reads`). Its device time also advances the tracker's clock. */
  ingest(event: DeviceEvent<RfidReadsPayload>): RfidIngestResult {
    const at = event.deviceTime;
    const result: RfidIngestResult = { counted: 0, duplicates: 0, rejected: 0, late: 0, belowMinRssi: 0 };
    const { cycleMs, duplicateWindowMs } = this.options;
    const cycle = Math.floor(at / cycleMs);
    const slot = Math.floor(at / duplicateWindowMs);
    const late = cycle <= this.#closedThrough;
    for (const read of event.payload.reads) {
      this.#stats.reads++;
      const channel = antennaKey(event.deviceId, read.antenna);
      const covering = this.#layout.antennas.get(channel);
      const epc = read.epc.toUpperCase();
      if (!covering) {
        result.rejected++;
        this.#reject(channel, { deviceId: event.deviceId, antenna: read.antenna, epc, at });
        continue;
      }
      const rssi = read.rssi;
      const zones = covering.filter((zone) => rssi === undefined || zone.minRssi === undefined || rssi >= zone.minRssi);
      if (zones.length === 0) {
        result.belowMinRssi++;
        this.#stats.belowMinRssi++;
        continue;
      }
      const tag = this.#tag(epc);
      const slotKey = `${channel}#${slot}`;
      if (late) {
        // The cycle is decided; presence does not change any more, but a portal read still counts for the exit.
        result.late++;
        this.#stats.late++;
        if (tag.recent.some((r) => r.slot === slotKey)) {
          result.duplicates++;
          this.#stats.duplicates++;
          continue;
        }
        for (const zone of zones) this.#remember(tag, { at, zone, rssi, slot: slotKey });
        for (const zone of zones) if (zone.exit) this.#considerExit(tag, zone, at, rssi);
        continue;
      }
      const open = this.#openCycle(tag, cycle);
      const duplicate = open.slots.has(slotKey);
      for (const zone of zones) {
        let evidence = open.zones.get(zone);
        if (!evidence) open.zones.set(zone, (evidence = emptyEvidence()));
        addRead(evidence, at, rssi, !duplicate);
      }
      if (duplicate) {
        result.duplicates++;
        this.#stats.duplicates++;
        continue;
      }
      open.slots.add(slotKey);
      result.counted++;
      this.#stats.counted++;
      for (const zone of zones) this.#remember(tag, { at, zone, rssi, slot: slotKey });
      for (const zone of zones) {
        if (zone.exit) this.#considerExit(tag, zone, at, rssi);
        else if (tag.pendingExit && at > tag.pendingExit.at && !this.#fringe(tag, rssi)) addRead(tag.pendingExit.store, at, rssi, true);
      }
    }
    this.#advance(at);
    this.#flush();
    return result;
  }

  /** Advances device time with no reads: decides the cycles that are due and the absence timeouts. */
  tick(now: number): void {
    this.#advance(now);
    this.#flush();
  }

  /** The zone a tag is present in, if any. */
  zoneOf(epc: string): string | undefined {
    return this.#tags.get(epc.toUpperCase())?.zone?.id;
  }

  /** A present tag's view, or undefined. */
  tag(epc: string): TagPresenceView | undefined {
    const tag = this.#tags.get(epc.toUpperCase());
    return tag?.zone ? view(tag, tag.zone) : undefined;
  }

  /** Present tags, optionally of one zone. */
  present(zone?: string): TagPresenceView[] {
    const out: TagPresenceView[] = [];
    for (const tag of this.#present) if (tag.zone && (zone === undefined || tag.zone.id === zone)) out.push(view(tag, tag.zone));
    return out;
  }

  /** Present tags per zone (every non-exit zone, 0 included). */
  countByZone(): Record<string, number> {
    return Object.fromEntries(this.#zoneCounts);
  }

  /** Present SGTIN-tagged items per GTIN, in one zone or the whole store. Opaque EPCs have no GTIN and are not here. */
  countByGtin(zone?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [zoneId, counts] of this.#gtinCounts) {
      if (zone !== undefined && zoneId !== zone) continue;
      for (const [gtin, n] of counts) out[gtin] = (out[gtin] ?? 0) + n;
    }
    return out;
  }

  /** Present items per SKU, for the catalog's RFID-tagged items (GTIN → SKU). */
  countBySku(zone?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [gtin, n] of Object.entries(this.countByGtin(zone))) {
      const sku = this.#skuByGtin.get(gtin);
      if (sku !== undefined) out[sku] = (out[sku] ?? 0) + n;
    }
    return out;
  }

  /** Tags that exited with from <= at <= to (device time), oldest first. Kept for `exit.retentionMs`. */
  exitedBetween(from: number, to: number): ExitRecord[] {
    return this.#exits.between(from, to);
  }

  stats(): RfidPresenceStats {
    return {
      ...this.#stats,
      rejectedByChannel: Object.fromEntries(this.#rejectedByChannel),
      events: { ...this.#events },
      trackedTags: this.#tags.size,
      presentTags: this.#present.size,
      exitRecords: this.#exits.size,
    };
  }

  // --- reads ------------------------------------------------------------------------------

  #reject(channel: string, read: { deviceId: string; antenna: number; epc: string; at: number }): void {
    this.#stats.rejected++;
    this.#rejectedByChannel.set(channel, (this.#rejectedByChannel.get(channel) ?? 0) + 1);
    const error = driverErrors.DRV_ERR_UNKNOWN_CHANNEL(`antenna ${read.antenna} of reader ${read.deviceId} covers no zone of the store model`);
    this.#onReject({ code: error.code, message: error.message, ...read });
  }

  #tag(epc: string): TagState {
    let tag = this.#tags.get(epc);
    if (tag) return tag;
    let decoded: ReturnType<EpcDecoder>;
    try {
      decoded = this.#decodeEpc(epc);
    } catch {
      this.#stats.decodeErrors++;
      decoded = undefined;
    }
    tag = {
      epc,
      gtin: decoded?.gtin,
      serial: decoded?.serial,
      zone: undefined,
      since: 0,
      lastSeen: 0,
      lastHitCycle: 0,
      readRate: 0,
      refRssi: undefined,
      hits: new Map(),
      open: new Map(),
      recent: [],
      exitedAt: undefined,
      lastExitReadAt: Number.NEGATIVE_INFINITY,
      rearmed: false,
      pendingExit: undefined,
    };
    this.#tags.set(epc, tag);
    return tag;
  }

  #openCycle(tag: TagState, cycle: number): OpenCycle {
    let open = tag.open.get(cycle);
    if (!open) {
      tag.open.set(cycle, (open = { zones: new Map(), slots: new Set() }));
      let tags = this.#openCycles.get(cycle);
      if (!tags) this.#openCycles.set(cycle, (tags = new Set()));
      tags.add(tag);
    }
    return open;
  }

  /** Keeps a counted read for exit decisions, for one exit window (plus lateness). */
  #remember(tag: TagState, read: RecentRead): void {
    const horizon = Math.max(this.#watermark, read.at) - this.#layout.longestExitWindowMs - this.options.latenessMs;
    while (tag.recent.length > 0 && tag.recent[0]!.at < horizon) tag.recent.shift();
    tag.recent.push(read);
  }

  /** A read more than `crossReadMarginDb` below what a direct read of this tag looks like. */
  #fringe(tag: TagState, rssi: number | undefined): boolean {
    return this.#muchWeaker(rssi, tag.refRssi);
  }

  /** `rssi` is more than `crossReadMarginDb` below `than`. */
  #muchWeaker(rssi: number | undefined, than: number | undefined): boolean {
    const margin = this.options.crossReadMarginDb;
    return margin !== null && rssi !== undefined && than !== undefined && rssi < than - margin;
  }

  // --- exits ------------------------------------------------------------------------------

  /**
   * An exit portal decides read by read: `exitReads` counted reads in the trailing
   * `exitWindowMs` that are not cross-reads (not far below the tag's own RSSI or below a
   * neighbour's read in the window) and no neighbouring zone with stronger evidence in the same
   * window, nor far below what the zones beside the portal have just read of it. When the tag
   * is in (or has just been read by) a zone beside the portal and RSSI cannot tell a pass from a
   * cross-read, the exit waits (see PendingExit).
   */
  #considerExit(tag: TagState, exit: ZoneSettings, at: number, rssi: number | undefined): void {
    const armed = tag.exitedAt === undefined || tag.rearmed || at - tag.lastExitReadAt >= this.options.exit.rearmMs;
    if (!armed) {
      tag.lastExitReadAt = Math.max(tag.lastExitReadAt, at);
      return;
    }
    if (tag.pendingExit) {
      if (tag.pendingExit.zone === exit && !this.#fringe(tag, rssi)) addRead(tag.pendingExit.exit, at, rssi, true);
      return;
    }
    const from = at - exit.exitWindowMs;
    const inWindow = new Map<ZoneSettings, Evidence>();
    for (const read of tag.recent) {
      if (read.at < from || read.at > at || this.#fringe(tag, read.rssi)) continue;
      if (read.zone !== exit && !exit.neighbours.has(read.zone.id)) continue;
      let evidence = inWindow.get(read.zone);
      if (!evidence) inWindow.set(read.zone, (evidence = emptyEvidence()));
      addRead(evidence, read.at, read.rssi, true);
    }
    const evidence = inWindow.get(exit);
    if (!evidence || evidence.count < exit.exitReads) return;
    for (const [zone, other] of inWindow) {
      if (zone === exit) continue;
      if (stronger(other, evidence) || this.#muchWeaker(evidence.peakRssi, other.peakRssi)) return;
    }
    // The zones beside the portal that hold the tag or have just been reading it (its last n
    // cycles): a portal read far below their reads is a cross-read of a tag lying there.
    let besideRecently = false;
    let besidePeak: number | undefined;
    for (const [zone, list] of tag.hits) {
      if (!exit.neighbours.has(zone.id)) continue;
      for (const hit of list) {
        if (hit.cycle <= this.#closedThrough - this.options.windowCycles) continue;
        besideRecently = true;
        if (hit.peakRssi !== undefined && (besidePeak === undefined || hit.peakRssi > besidePeak)) besidePeak = hit.peakRssi;
      }
    }
    if (this.#muchWeaker(evidence.peakRssi, besidePeak)) return;
    const besidePresent = tag.zone !== undefined && exit.neighbours.has(tag.zone.id);
    const reference = tag.refRssi ?? besidePeak;
    const rssiDecides = this.options.crossReadMarginDb !== null && reference !== undefined && evidence.peakRssi !== undefined;
    if ((besidePresent || besideRecently) && !rssiDecides) {
      tag.pendingExit = { zone: exit, at, exit: { ...evidence }, store: emptyEvidence() };
      this.#pendingExits.add(tag);
      return;
    }
    this.#exit(tag, exit, at);
  }

  /** Pending exits whose zone beside the portal stayed silent long enough become exits; the others were cross-reads. */
  #settlePendingExits(end: number): void {
    for (const tag of [...this.#pendingExits]) {
      const pending = tag.pendingExit!;
      if (end - pending.at < this.#quietCycles(tag) * this.options.cycleMs) continue;
      this.#pendingExits.delete(tag);
      tag.pendingExit = undefined;
      if (stronger(pending.exit, pending.store)) this.#exit(tag, pending.zone, pending.at);
      else this.#stats.crossReads += pending.exit.count;
    }
  }

  #exit(tag: TagState, exit: ZoneSettings, at: number): void {
    const previous = tag.zone;
    if (previous) this.#setZone(tag, undefined);
    if (tag.pendingExit) {
      tag.pendingExit = undefined;
      this.#pendingExits.delete(tag);
    }
    tag.hits.clear();
    tag.refRssi = undefined;
    tag.exitedAt = at;
    tag.lastExitReadAt = Math.max(tag.lastExitReadAt, at);
    tag.rearmed = false;
    const record: ExitRecord = { epc: tag.epc, ...ids(tag), zone: exit.id, ...(previous ? { previousZone: previous.id } : {}), at };
    this.#exits.add(record);
    this.#emit({ ...record, kind: 'exited' });
  }

  // --- cycles -----------------------------------------------------------------------------

  #advance(now: number): void {
    if (now > this.#watermark) this.#watermark = now;
    const { cycleMs, latenessMs } = this.options;
    this.#exits.prune(this.#watermark - this.options.exit.retentionMs);
    const target = Math.floor((this.#watermark - latenessMs) / cycleMs) - 1;
    if (target <= this.#closedThrough) return;
    const due = [...this.#openCycles.keys()].filter((cycle) => cycle <= target).sort((a, b) => a - b);
    for (const cycle of due) {
      const tags = this.#openCycles.get(cycle)!;
      this.#openCycles.delete(cycle);
      this.#closedThrough = cycle;
      for (const tag of tags) {
        const open = tag.open.get(cycle);
        tag.open.delete(cycle);
        if (open) this.#decideCycle(tag, cycle, open);
      }
      this.#settlePendingExits((cycle + 1) * cycleMs);
      this.#checkAbsence((cycle + 1) * cycleMs);
    }
    this.#closedThrough = target;
    this.#settlePendingExits((target + 1) * cycleMs);
    this.#checkAbsence((target + 1) * cycleMs);
    if (target - this.#lastSweepCycle >= SWEEP_EVERY_CYCLES) {
      this.#lastSweepCycle = target;
      this.#sweep();
    }
  }

  /** One decided cycle of one tag: cross-reads out, hits in, then arrival or move. */
  #decideCycle(tag: TagState, cycle: number, open: OpenCycle): void {
    const present = tag.zone;
    // 1. Reads far below the tag's own reference RSSI, or far below another zone's read of it in
    //    the same cycle, are the fringe of another zone's field. This applies to the zone the tag
    //    is present in too: a wrong first placement (cross-reads came first) does not stick.
    let strongest: number | undefined;
    for (const evidence of open.zones.values()) {
      if (evidence.peakRssi !== undefined && (strongest === undefined || evidence.peakRssi > strongest)) strongest = evidence.peakRssi;
    }
    const candidates = new Map<ZoneSettings, Evidence>();
    for (const [zone, evidence] of open.zones) {
      if (this.#fringe(tag, evidence.peakRssi) || this.#muchWeaker(evidence.peakRssi, strongest)) this.#stats.crossReads += evidence.count;
      else candidates.set(zone, evidence);
    }
    // 2. Between neighbours the stronger evidence wins; the weaker is a cross-read. The zone the
    //    tag is present in is never outvoted within one cycle (hysteresis: it loses the tag only
    //    by falling silent, see #moveDue).
    const hits = new Map<ZoneSettings, Evidence>();
    for (const [zone, evidence] of candidates) {
      let outvoted = false;
      if (zone !== present) {
        for (const [other, otherEvidence] of candidates) {
          if (other !== zone && zone.neighbours.has(other.id) && stronger(otherEvidence, evidence)) {
            outvoted = true;
            break;
          }
        }
      }
      if (outvoted) this.#stats.crossReads += evidence.count;
      else if (evidence.count > 0) hits.set(zone, evidence);
    }
    // Reads of a cycle the tag exited in (or before) do not bring it back.
    const exitedCycle = tag.exitedAt === undefined ? Number.NEGATIVE_INFINITY : Math.floor(tag.exitedAt / this.options.cycleMs);
    if (cycle <= exitedCycle) return;

    const { windowCycles, smoothing } = this.options;
    for (const [zone, evidence] of hits) {
      if (zone.exit) continue;
      let list = tag.hits.get(zone);
      if (!list) tag.hits.set(zone, (list = []));
      list.push({ cycle, ...evidence });
      while (list.length > 0 && list[0]!.cycle <= cycle - windowCycles) list.shift();
      if (zone === present) {
        // p̂ learns from the silent cycles since the last hit and this hit: p ← p(1−α)^(gap+1) + α.
        const gap = Math.max(0, cycle - tag.lastHitCycle - 1);
        tag.readRate = tag.readRate * (1 - smoothing) ** (gap + 1) + smoothing;
        tag.lastHitCycle = Math.max(tag.lastHitCycle, cycle);
        tag.lastSeen = Math.max(tag.lastSeen, evidence.lastAt);
        if (evidence.peakRssi !== undefined) {
          tag.refRssi = tag.refRssi === undefined ? evidence.peakRssi : tag.refRssi + smoothing * (evidence.peakRssi - tag.refRssi);
        }
      }
    }

    const best = this.#bestCandidate(tag, cycle);
    if (!best) return;
    if (!present) this.#place(tag, best, undefined, best.lastAt);
    else if (cycle - tag.lastHitCycle >= this.#quietCycles(tag)) this.#place(tag, best, present, best.lastAt);
  }

  /**
   * The strongest zone other than the present one that reaches k hits in the last n cycles
   * (hits, then reads, then peak RSSI). A zone whose strongest read in the window is far below
   * another zone's is only cross-reading the tag and does not qualify.
   */
  #bestCandidate(tag: TagState, cycle: number): Candidate | undefined {
    const { windowCycles, presentCycles } = this.options;
    const windows: Candidate[] = [];
    for (const [zone, list] of tag.hits) {
      const recent = list.filter((hit) => hit.cycle > cycle - windowCycles);
      if (recent.length === 0) continue;
      let peak: number | undefined;
      for (const hit of recent) if (hit.peakRssi !== undefined && (peak === undefined || hit.peakRssi > peak)) peak = hit.peakRssi;
      const latest = recent[recent.length - 1]!;
      windows.push({ ...latest, peakRssi: peak, zone, hitCount: recent.length, reads: recent.reduce((sum, hit) => sum + hit.count, 0) });
    }
    let best: Candidate | undefined;
    for (const candidate of windows) {
      if (candidate.zone === tag.zone || candidate.zone.exit || candidate.hitCount < presentCycles) continue;
      if (windows.some((other) => other !== candidate && this.#muchWeaker(candidate.peakRssi, other.peakRssi))) continue;
      if (
        !best ||
        candidate.hitCount > best.hitCount ||
        (candidate.hitCount === best.hitCount &&
          (candidate.reads > best.reads || (candidate.reads === best.reads && (candidate.peakRssi ?? -Infinity) > (best.peakRssi ?? -Infinity))))
      ) {
        best = candidate;
      }
    }
    return best;
  }

  /**
   * How many silent cycles of its zone make a tag movable: the smallest q with (1 − p)^q ≤
   * moveFalseQuietProbability, p being the lower bound of p̂, within [moveQuietMinCycles,
   * moveQuietMaxCycles]. With the defaults a tag read every cycle moves after 2 silent cycles,
   * one read 9 cycles in 10 after 5, one read 6 in 10 after 8. (SMURF sizes its per-tag window
   * from the observed read rate the same way, research/rfid.md §4.3 step 4.)
   */
  #quietCycles(tag: TagState): number {
    const { moveFalseQuietProbability, moveQuietMinCycles, moveQuietMaxCycles, smoothing } = this.options;
    // p̂ is an EWMA and wanders; use its lower 2σ bound (σ² = p(1−p)·α/(2−α) for an EWMA of
    // Bernoulli draws) so a lucky streak does not shorten the wait.
    const sigma = Math.sqrt((tag.readRate * (1 - tag.readRate) * smoothing) / (2 - smoothing));
    const p = Math.min(0.999, Math.max(0.01, tag.readRate - 2 * sigma));
    const q = Math.ceil(Math.log(moveFalseQuietProbability) / Math.log(1 - p));
    return Math.min(moveQuietMaxCycles, Math.max(moveQuietMinCycles, q));
  }

  /** Arrival (previous undefined) or move into `target`. */
  #place(tag: TagState, target: Candidate, previous: ZoneSettings | undefined, at: number): void {
    const list = (tag.hits.get(target.zone) ?? []).filter((hit) => hit.cycle > target.cycle - this.options.windowCycles);
    const peaks = list.map((hit) => hit.peakRssi).filter((rssi): rssi is number => rssi !== undefined);
    this.#setZone(tag, target.zone);
    tag.since = at;
    tag.lastSeen = target.lastAt;
    tag.lastHitCycle = target.cycle;
    // Conservative start: k hits out of n cycles, so a new arrival waits longer before it can move.
    tag.readRate = target.hitCount / this.options.windowCycles;
    tag.refRssi = peaks.length > 0 ? peaks.reduce((a, b) => a + b, 0) / peaks.length : undefined;
    tag.rearmed = tag.exitedAt !== undefined;
    if (previous) tag.hits.delete(previous);
    this.#emit({
      epc: tag.epc,
      ...ids(tag),
      kind: previous ? 'moved' : 'arrived',
      zone: target.zone.id,
      ...(previous ? { previousZone: previous.id } : {}),
      at,
    });
  }

  /** Present tags whose zone has been silent for its absence timeout, as of `end`: moved if another zone qualifies, else departed. */
  #checkAbsence(end: number): void {
    for (const tag of [...this.#present]) {
      const zone = tag.zone!;
      const deadline = tag.lastSeen + zone.absenceTimeoutMs;
      if (deadline > end) continue;
      const best = this.#bestCandidate(tag, Math.floor(end / this.options.cycleMs) - 1);
      if (best) {
        this.#place(tag, best, zone, deadline);
        continue;
      }
      this.#setZone(tag, undefined);
      tag.hits.delete(zone);
      tag.refRssi = undefined;
      this.#emit({ epc: tag.epc, ...ids(tag), kind: 'departed', zone: zone.id, at: deadline });
    }
  }

  #setZone(tag: TagState, zone: ZoneSettings | undefined): void {
    const before = tag.zone;
    if (before === zone) return;
    if (before) {
      this.#zoneCounts.set(before.id, (this.#zoneCounts.get(before.id) ?? 1) - 1);
      if (tag.gtin !== undefined) {
        const counts = this.#gtinCounts.get(before.id)!;
        const n = (counts.get(tag.gtin) ?? 1) - 1;
        if (n > 0) counts.set(tag.gtin, n);
        else counts.delete(tag.gtin);
      }
      this.#present.delete(tag);
    }
    tag.zone = zone;
    if (zone) {
      this.#zoneCounts.set(zone.id, (this.#zoneCounts.get(zone.id) ?? 0) + 1);
      if (tag.gtin !== undefined) {
        let counts = this.#gtinCounts.get(zone.id);
        if (!counts) this.#gtinCounts.set(zone.id, (counts = new Map()));
        counts.set(tag.gtin, (counts.get(tag.gtin) ?? 0) + 1);
      }
      this.#present.add(tag);
    }
  }

  /** Forgets tags that are not present and have nothing pending, so memory follows the tags in the store. */
  #sweep(): void {
    const oldest = this.#closedThrough - this.options.windowCycles;
    const horizon = this.#watermark - this.#layout.longestExitWindowMs - this.options.latenessMs;
    for (const [epc, tag] of this.#tags) {
      if (tag.zone || tag.open.size > 0 || tag.pendingExit) continue;
      if (tag.recent.length > 0 && tag.recent[tag.recent.length - 1]!.at >= horizon) continue;
      if ([...tag.hits.values()].some((list) => list.some((hit) => hit.cycle > oldest))) continue;
      if (tag.exitedAt !== undefined && !tag.rearmed && this.#watermark - tag.lastExitReadAt < this.options.exit.rearmMs) continue;
      this.#tags.delete(epc);
    }
  }

  // --- events -----------------------------------------------------------------------------

  #emit(event: RfidPresence): void {
    this.#events[event.kind]++;
    this.#pending.push(event);
  }

  /** Events go out after a whole batch or tick is processed, so a listener always sees consistent state. */
  #flush(): void {
    for (const event of this.#pending.splice(0)) {
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          this.#stats.listenerErrors++;
          this.#onListenerError(error, event);
        }
      }
    }
  }
}

function ids(tag: TagState): { gtin?: string; serial?: string } {
  return { ...(tag.gtin !== undefined ? { gtin: tag.gtin } : {}), ...(tag.serial !== undefined ? { serial: tag.serial } : {}) };
}

function view(tag: TagState, zone: ZoneSettings): TagPresenceView {
  return { epc: tag.epc, ...ids(tag), zone: zone.id, since: tag.since, lastSeen: tag.lastSeen };
}
