/**
 * @module http/routes/sdk-config
 * posthog-js's first request: `GET /array/{token}/config` (JSON, trailing slash optional) and
 * `/array/{token}/config.js` (the same config as a script that fills
 * `window._POSTHOG_REMOTE_CONFIG[token]`). Shaped like PostHog's remote config
 * (posthog/models/remote_config.py `build_config`, served by rust/…/api/remote_config handlers
 * and posthog/api/remote_config.py): it declares what Vexil offers (flags, compression, the
 * capture endpoint) and turns off every product Vexil lacks, so the SDK never calls an endpoint
 * that would answer 404.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VexilError } from '../../errors.ts';
import type { ProjectEntry, SnapshotCache } from '../../cache/snapshot-cache.ts';

/** PostHog's `check_token`: at most 200 characters of letters, digits, `_` and `-`. */
const VALID_TOKEN = /^[A-Za-z0-9_-]{1,200}$/;

/** Both views' cache headers (Django `add_vary_headers` + rust `config_cache_headers`). */
const CACHE_CONTROL = 'public, max-age=300';
const VARY = 'Origin, Referer';
const ALLOW = 'GET, OPTIONS, HEAD';

/**
 * The config object for one project. Every product key Vexil does not serve is present and off:
 * an absent key would leave posthog-js on its own default, which for some products (dead
 * clicks, web vitals, exception autocapture) is to load a script or post to an endpoint.
 */
export function buildSdkConfig(token: string, hasFeatureFlags: boolean): Record<string, unknown> {
  return {
    token,
    supportedCompression: ['gzip', 'gzip-js'],
    hasFeatureFlags,
    captureDeadClicks: false,
    capturePerformance: false,
    autocapture_opt_out: false,
    autocaptureExceptions: false,
    // Vexil's capture accepts /i/v0/e/ like PostHog's new analytics endpoint.
    analytics: { endpoint: '/i/v0/e/' },
    elementsChainAsString: true,
    errorTracking: { autocaptureExceptions: false, suppressionRules: [] },
    logs: { captureConsoleLogs: false },
    sessionRecording: false,
    heatmaps: false,
    conversations: false,
    surveys: false,
    productTours: false,
    defaultIdentifiedOnly: true,
    siteApps: [],
  };
}

function configJson(entry: ProjectEntry): string {
  return entry.derive('sdkConfigJson', (e) =>
    JSON.stringify(buildSdkConfig(e.project.apiToken, e.snapshot.flags.some((f) => f.active))),
  );
}

/** The script form, as PostHog's `build_config_js`: no site apps (Vexil has none). */
function configJs(entry: ProjectEntry): string {
  return entry.derive('sdkConfigJs', (e) => {
    // The token passed VALID_TOKEN, so it needs no escaping inside the quotes.
    const token = e.project.apiToken;
    return (
      '(function() {\n' +
      '  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};\n' +
      `  window._POSTHOG_REMOTE_CONFIG['${token}'] = {\n` +
      `    config: ${configJson(e)},\n` +
      '    siteApps: []\n' +
      '  }\n' +
      '})();'
    );
  });
}

/** Registers the three paths, each answering GET, HEAD and OPTIONS, other methods 405 (PostHog's rust handlers). */
export function registerSdkConfigRoutes(app: FastifyInstance, deps: { snapshots: SnapshotCache }): void {
  const handler = (kind: 'json' | 'js') => async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS') return reply.code(204).header('allow', ALLOW).send();
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply.header('allow', ALLOW);
      throw new VexilError('VXL_METHOD_NOT_ALLOWED');
    }
    const { token } = request.params as { token: string };
    // An invalid token is a 400 and an unknown one a 404, both before HEAD answers.
    if (!VALID_TOKEN.test(token)) return reply.code(400).type('text/plain; charset=utf-8').send('Invalid token');
    let entry: ProjectEntry | null;
    try {
      entry = await deps.snapshots.resolveToken(token);
    } catch (err) {
      throw new VexilError('VXL_STORE_UNAVAILABLE', { cause: err });
    }
    if (!entry) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    reply.header('cache-control', CACHE_CONTROL).header('vary', VARY);
    reply.type(kind === 'json' ? 'application/json' : 'application/javascript');
    if (request.method === 'HEAD') return reply.send('');
    return reply.send(kind === 'json' ? configJson(entry) : configJs(entry));
  };
  const method = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'];
  for (const url of ['/array/:token/config', '/array/:token/config/']) {
    app.route({ method, url, exposeHeadRoute: false, handler: handler('json') });
  }
  app.route({ method, url: '/array/:token/config.js', exposeHeadRoute: false, handler: handler('js') });
}
