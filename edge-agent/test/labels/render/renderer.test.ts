import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { LabelRenderer, renderLabel } from '../../../src/labels/render/index.ts';
import { chineseContent, fullContent } from './fixtures.ts';

describe('LabelRenderer (worker threads)', () => {
  let renderer: LabelRenderer | undefined;
  afterEach(async () => {
    await renderer?.close();
    renderer = undefined;
  });

  it('renders in workers exactly what renderLabel renders on the calling thread', async () => {
    renderer = new LabelRenderer({ workers: 2 });
    const [a, b, c] = await Promise.all([
      renderer.render(fullContent, 'm3-4.2-bwr', { png: true }),
      renderer.render(chineseContent, 'hs-7.5-bwry'),
      renderer.render(fullContent, 'm3-4.2-bwr'),
    ]);
    const local = await renderLabel(fullContent, 'm3-4.2-bwr', { png: true });
    expect(a.encoded.equals(local.encoded)).toBe(true);
    expect(a.contentHash).toBe(local.contentHash);
    expect(a.png!.equals(local.png!)).toBe(true);
    expect(c.contentHash).toBe(a.contentHash);
    expect(b.contentHash).toBe((await renderLabel(chineseContent, 'hs-7.5-bwry')).contentHash);
    expect(renderer.status()).toMatchObject({ workers: 2, rendered: 3, failed: 0, queued: 0 });
  });

  it('refuses bad content and unknown tag types at once, without a worker', async () => {
    renderer = new LabelRenderer({ workers: 1 });
    await expect(renderer.render({ ...fullContent, name: '' }, 'm2-2.9-bwr')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_CONTENT_INVALID' });
    await expect(renderer.render(fullContent, 'nope')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_TAG_TYPE_UNKNOWN' });
    expect(renderer.status().rendered).toBe(0);
  });

  it('bounds its queue: one render past queueLimit is refused with EDGE_ERR_LABEL_RENDER_QUEUE_FULL', async () => {
    renderer = new LabelRenderer({ workers: 1, queueLimit: 2 });
    // The worker is still starting, so every render waits in the queue.
    const waiting = [renderer.render(fullContent, 'm2-2.9-bwr'), renderer.render(fullContent, 'hs-2.13-bw')];
    await expect(renderer.render(fullContent, 'm2-1.54-bwr')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_RENDER_QUEUE_FULL' });
    expect(renderer.status()).toMatchObject({ queued: 2, refused: 1 });
    expect((await Promise.all(waiting)).map((r) => r.tagType)).toEqual(['m2-2.9-bwr', 'hs-2.13-bw']);
  });

  it('fails the render of a worker that dies, restarts the worker and renders on', async () => {
    const workers: Worker[] = [];
    renderer = new LabelRenderer({ workers: 1, restartDelayMs: 10, onWorker: (worker) => workers.push(worker) });
    await renderer.render(fullContent, 'm2-2.9-bwr');
    const running = renderer.render(fullContent, 'm3-7.5-bwr');
    await workers[0]!.terminate();
    await expect(running).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_RENDER_FAILED' });
    const after = await renderer.render(fullContent, 'm3-7.5-bwr');
    expect(after.contentHash).toMatch(/^[0-9a-f]{16}$/);
    expect(workers.length).toBe(2);
    expect(renderer.status()).toMatchObject({ crashes: 1, failed: 1 });
  });

  it('fails waiting renders on close and refuses new ones', async () => {
    renderer = new LabelRenderer({ workers: 1 });
    const waiting = expect(renderer.render(fullContent, 'm2-2.9-bwr')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_RENDERER_CLOSED' });
    await renderer.close();
    await waiting;
    await expect(renderer.render(fullContent, 'm2-2.9-bwr')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_RENDERER_CLOSED' });
  });
});
