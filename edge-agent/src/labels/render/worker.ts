import { parentPort } from 'node:worker_threads';
import { StoreEdgeError } from '../../errors.ts';
import { labelFonts } from './fonts.ts';
import type { FromWorker, ToWorker, WireRendered } from './protocol.ts';
import { renderLabel } from './render-label.ts';

/**
 * One label-render worker (started through worker-entry.mjs by LabelRenderer): renders one
 * label at a time and posts the encoded bytes back. The fonts are read once, at start.
 */

if (!parentPort) throw new Error('label render worker: not started as a worker thread');
const port = parentPort;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** A copy in its own ArrayBuffer (a Buffer may be a view into a shared pool, which must not be transferred). */
function own(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

port.on('message', (message: ToWorker) => {
  if (message.type !== 'render') return;
  renderLabel(message.content, message.tagTypeId, message.options).then(
    (rendered) => {
      const encoded = own(rendered.encoded);
      const png = rendered.png ? own(rendered.png) : undefined;
      const result: WireRendered = { ...rendered, encoded, ...(png ? { png } : {}) };
      send({ type: 'rendered', job: message.job, result }, [encoded.buffer as ArrayBuffer, ...(png ? [png.buffer as ArrayBuffer] : [])]);
    },
    (error: unknown) => {
      const wire =
        error instanceof StoreEdgeError
          ? { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) }
          : { code: 'EDGE_ERR_LABEL_RENDER_FAILED', message: `rendering label failed: ${error instanceof Error ? error.message : String(error)}` };
      send({ type: 'failed', job: message.job, error: wire });
    },
  );
});

labelFonts();
send({ type: 'ready' });
