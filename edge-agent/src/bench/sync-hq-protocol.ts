/**
 * Messages between `storeedge bench sync` and its HQ thread (sync-hq-worker.ts): HQ runs in a
 * worker thread of its own, as it runs on a machine of its own, so the store side and the
 * simulated stores never share its event loop. Every request carries an id; the reply names it.
 */
import type { HqCounters } from '@storeedge/sync/hq/index.ts';

export interface HqSigningKey {
  keyId: string;
  privateKeyPem: string;
  publicKey: string;
}

export type HqRequest =
  /** A fresh HqStore file (synchronous FULL) and an HqService on the upstream broker, as user `hq`. */
  | { op: 'open'; file: string; url: string; password: string; stores: string[]; signingKey: HqSigningKey; chunkBytes?: number }
  /** Stops the service and closes the store. */
  | { op: 'close' }
  /** Starts a measurement window: event-loop use and ingest figures count from here. */
  | { op: 'mark' }
  /** Figures since the mark, and what HQ holds (per store with `stores`). */
  | { op: 'report'; stores?: string[] }
  /** Signs, records and delivers a generated document; returns when every target's chunks were handed to the broker. */
  | { op: 'publish'; kind: 'catalog' | 'prices'; skus: number; stores: string[]; effectiveFrom: number | null; withChunks: boolean }
  /**
   * The transport reference: an MQTT client as `hq` subscribed to every store's up/batch with no
   * storage behind it. `sink` only counts what arrives; `echo` also answers each message with a
   * small ack on the store's down/ack, in order.
   */
  | { op: 'reference-start'; url: string; password: string; mode: 'sink' | 'echo' }
  /** Resolves once the reference subscriber has received this many messages. */
  | { op: 'reference-wait'; messages: number; timeoutMs: number }
  | { op: 'reference-stop' };

export interface HqWindowReport {
  /** Event-loop utilisation of the HQ thread since the mark (0–1). */
  loop: number;
  /** Wall ms since the mark. */
  windowMs: number;
  /** Batches ingested since the mark, and the time spent in HqStore.ingest (transaction and commit included). */
  ingestBatches: number;
  ingestMs: number;
  counters: HqCounters;
  /** Records HQ holds (all stores), and per requested store. */
  held: number;
  heldByStore: Record<string, number>;
  /** Duplicates HQ acked (held already) — re-deliveries — all stores. */
  duplicates: number;
  /** Gaps below a store's highest seq, summed over the requested stores. */
  gaps: number;
}

export interface PublishReport {
  docId: string;
  version: number;
  bodyBytes: number;
  chunks: number;
  /** Generating the body (the bench's, not HQ's). */
  bodyMs: number;
  /** publishDocument: body schema check, canonical JSON, hash, signature and the recording transaction. */
  signMs: number;
  /** From publishDocument's return until every target's chunks were acknowledged by the broker (PUBACK). */
  sendMs: number;
  /** The chunk messages as published (JSON text), when asked for. */
  chunkMessages?: string[];
}

export interface ReferenceReport {
  messages: number;
  bytes: number;
  /** Absolute times (performance.timeOrigin + now) of the first and last message. */
  firstAt: number;
  lastAt: number;
  loop: number;
}

export type HqReplyValue = { op: 'open' } | { op: 'close' } | { op: 'mark' } | ({ op: 'report' } & HqWindowReport) | ({ op: 'publish' } & PublishReport) | { op: 'reference-start' } | { op: 'reference-wait' } | ({ op: 'reference-stop' } & ReferenceReport);

export type ToHq = HqRequest & { id: number };
export type FromHq = { id: number; ok: true; value: HqReplyValue } | { id: number; ok: false; error: string } | { id: -1; ok: false; error: string };
