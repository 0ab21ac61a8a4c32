/** What one zone's antennas saw of one tag over a span of time (a cycle, or an exit window). */
export interface Evidence {
  /** Counted reads: after duplicate suppression, one per antenna per duplicate slot. */
  count: number;
  /** Strongest RSSI among them (dBm); undefined when the reader reports none. */
  peakRssi: number | undefined;
  /** Device time of the latest of them. */
  lastAt: number;
}

export function emptyEvidence(): Evidence {
  return { count: 0, peakRssi: undefined, lastAt: Number.NEGATIVE_INFINITY };
}

/** Folds one read into `evidence`; `counted` is false for a duplicate, which may still raise the peak RSSI (like LLRP PeakRSSI). */
export function addRead(evidence: Evidence, at: number, rssi: number | undefined, counted: boolean): void {
  if (counted) evidence.count += 1;
  if (rssi !== undefined && (evidence.peakRssi === undefined || rssi > evidence.peakRssi)) evidence.peakRssi = rssi;
  if (at > evidence.lastAt) evidence.lastAt = at;
}

/**
 * Whether `a` is strictly stronger than `b`: more counted reads, or as many and a higher peak
 * RSSI. Equal evidence (or equal counts without RSSI) is a tie: neither is stronger, so neither
 * suppresses the other. [research/rfid.md §4.3 step 5: resolve the zone by RSSI or a majority]
 */
export function stronger(a: Evidence, b: Evidence): boolean {
  if (a.count !== b.count) return a.count > b.count;
  return (a.peakRssi ?? Number.NEGATIVE_INFINITY) > (b.peakRssi ?? Number.NEGATIVE_INFINITY);
}
