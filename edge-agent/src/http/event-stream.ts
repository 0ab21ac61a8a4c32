import type { FastifyInstance } from 'fastify';
import type { StoreEventName } from '../events.ts';
import type { AgentApi } from './api.ts';

/** Raw telemetry is high-rate; a client gets it only when it names it in ?types=. */
const telemetry = new Set<StoreEventName>(['shelf.weight', 'rfid.reads', 'tracker.tracks']);
/** A client that falls this far behind is disconnected rather than buffered without end. */
const maxBufferedBytes = 1024 * 1024;
const heartbeatMs = 15_000;

/**
 * GET /api/events: server-sent events, one `event: <name>` per bus event. `?types=a,b` limits
 * the stream to those names (and is the only way to receive raw telemetry).
 */
export function registerEventStream(app: FastifyInstance, api: AgentApi): void {
  const clients = new Set<{ buffered: () => number }>();
  const publishDepth = () => {
    let bytes = 0;
    for (const c of clients) bytes += c.buffered();
    api.setQueueDepth('sse_bytes', bytes);
    api.setQueueDepth('sse_clients', clients.size);
  };

  app.get<{ Querystring: { types?: string } }>('/api/events', (request, reply) => {
    const wanted = request.query.types ? new Set(request.query.types.split(',').map((t) => t.trim())) : undefined;
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(`: storeedge ${api.storeId}\nretry: 2000\n\n`);
    const client = { buffered: () => raw.writableLength };
    clients.add(client);
    let id = 0;
    const off = api.bus.onAny((name, event) => {
      if (wanted ? !wanted.has(name) : telemetry.has(name)) return;
      if (raw.writableLength > maxBufferedBytes) {
        request.log.warn('event stream client too slow; disconnecting');
        raw.destroy();
        return;
      }
      raw.write(`id: ${++id}\nevent: ${name}\ndata: ${JSON.stringify(redact(name, event))}\n\n`);
    });
    const heartbeat = setInterval(() => {
      raw.write(': heartbeat\n\n');
      publishDepth();
    }, heartbeatMs);
    heartbeat.unref();
    raw.on('close', () => {
      off();
      clearInterval(heartbeat);
      clients.delete(client);
      publishDepth();
    });
    publishDepth();
  });
}

/** Shopper tokens never leave the agent except to payment: gate scans go out without theirs. */
function redact(name: StoreEventName, event: unknown): unknown {
  if (name !== 'gate.scan') return event;
  const scan = event as { payload: Record<string, unknown> };
  return { ...scan, payload: { ...scan.payload, token: '[redacted]' } };
}
