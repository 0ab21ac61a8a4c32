import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errors } from '../errors.ts';
import type { AgentApi } from '../http/api.ts';
import { ReviewCropRecorder } from './review-crops.ts';
import { WeightTraceRecorder } from './weight-trace-recorder.ts';

const assetsDir = join(import.meta.dirname, 'assets');

/**
 * Everything the page loads comes from this server: no CDN, no inline script or style
 * (docs/dashboard.md). Label previews are same-origin PNGs from /api/labels/:id/image.
 */
export const dashboardCsp = "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; object-src 'none'";

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** The assets folder read once at start: a fixed set of files, so no request can name a path outside it. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const type = contentTypes[extname(name)];
        if (type !== undefined) assets.set(relative(assetsDir, file).split(sep).join('/'), { body: readFileSync(file), type });
      }
    }
  };
  walk(assetsDir);
  return assets;
}

function send(reply: FastifyReply, asset: Asset, cache: string): FastifyReply {
  return reply
    .type(asset.type)
    .header('content-security-policy', dashboardCsp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', cache)
    .send(asset.body);
}

/**
 * The store manager's dashboard (docs/dashboard.md): the app shell at `/`, the login form at
 * `/login`, static ES modules and CSS under `/assets/`. The page reaches the agent only through
 * the public `/api`; the one route added here, `GET /api/review/:id/evidence`, is read-only and
 * gives the weight trace and the weight pipeline's candidates of a review item's shelf change.
 */
export function registerDashboard(app: FastifyInstance, api: AgentApi): void {
  const assets = loadAssets();
  const page = (name: string): Asset => {
    const asset = assets.get(name);
    if (asset === undefined) throw new Error(`dashboard asset ${name} missing`);
    return asset;
  };
  const shell = page('index.html');
  const login = page('login.html');
  app.get('/', (_request, reply) => send(reply, shell, 'no-store'));
  app.get('/login', (_request, reply) => send(reply, login, 'no-store'));
  app.get<{ Params: { '*': string } }>('/assets/*', (request, reply) => {
    const asset = assets.get(request.params['*']);
    if (asset === undefined) throw errors.EDGE_ERR_NOT_FOUND(`no asset ${request.params['*']}`);
    // Assets change only with the agent's version; a short cache keeps reloads cheap on a tablet.
    return send(reply, asset, 'private, max-age=60');
  });

  const traces = new WeightTraceRecorder();
  const crops = new ReviewCropRecorder({ frames: api.frames, model: () => api.model() });
  const detach = [traces.attach(api.bus), crops.attach(api.bus)];
  app.addHook('onClose', async () => detach.forEach((off) => off()));
  app.get<{ Params: { id: string } }>('/api/review/:id/evidence', (request) => {
    const review = api.checkout.review(request.params.id);
    const views = crops.crops(review.changeId).map(({ cameraId, when, atMs }, index) => ({ index, cameraId, when, atMs, url: `/api/review/${encodeURIComponent(review.id)}/crops/${index}` }));
    return { reviewId: review.id, changeId: review.changeId, evidence: traces.evidence(review.changeId) ?? null, crops: views };
  });
  app.get<{ Params: { id: string; index: string } }>('/api/review/:id/crops/:index', (request, reply) => {
    const review = api.checkout.review(request.params.id);
    const crop = /^\d{1,3}$/.test(request.params.index) ? crops.crops(review.changeId)[Number(request.params.index)] : undefined;
    if (crop === undefined) throw errors.EDGE_ERR_NOT_FOUND(`review ${review.id} has no camera crop ${request.params.index}`);
    // Pictures from the shop floor: never cached by the browser or anything in between.
    return reply.type('image/jpeg').header('cache-control', 'no-store').send(crop.jpeg);
  });
}
