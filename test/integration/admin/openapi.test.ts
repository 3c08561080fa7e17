// /api/schema/: an OpenAPI 3.1 document generated from the registered routes and the zod
// schemas that validate request bodies. Every admin route is in it (a route left out must be a
// 405 answer), and the request bodies are those schemas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerAdminRoutes } from '../../../src/admin/routes.ts';
import { openApiPath } from '../../../src/admin/openapi.ts';
import { registerPersonRoutes } from '../../../src/ingest/person-routes.ts';
import { startTestApp, type TestApp } from '../http/http-helpers.ts';

describe('OpenAPI document of the admin API', () => {
  let t: TestApp;
  let doc: any;

  before(async () => {
    t = await startTestApp('postgres');
    const res = await t.app.server.inject({ method: 'GET', url: '/api/schema/' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    doc = JSON.parse(res.body);
  });
  after(async () => t.close());

  test('is OpenAPI 3.1 with security, paths and operations', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.components.securitySchemes.personalApiKey.scheme, 'bearer');
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      assert.match(path, /^\/api\/.*\/$/);
      for (const [method, op] of Object.entries<any>(item)) {
        assert.ok(['get', 'post', 'put', 'patch', 'delete'].includes(method), `${method} ${path}`);
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
        for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
          assert.ok(op.parameters.some((p: any) => p.name === name && p.in === 'path'), `${method} ${path} declares ${name}`);
        }
      }
    }
  });

  test('every admin route registered is in the document, unless it only answers 405', async () => {
    // An independent enumeration: the same registration functions on a bare fastify instance.
    const bare = Fastify();
    const seen: { method: string; url: string }[] = [];
    bare.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) if (r.url.startsWith('/api/') && method !== 'HEAD' && method !== 'OPTIONS') seen.push({ method, url: r.url });
    });
    await registerAdminRoutes(bare, { store: t.store, onDefinitionsChanged: () => undefined });
    await registerPersonRoutes(bare, { store: t.store });
    await bare.ready();
    await bare.close();
    assert.ok(seen.length > 50, `routes seen: ${seen.length}`);

    let documented = 0;
    for (const { method, url } of seen) {
      const path = openApiPath(url);
      if (path === null || path === '/api/schema/') continue;
      if (doc.paths[path]?.[method.toLowerCase()]) {
        documented++;
        continue;
      }
      const concrete = url.replace(/:projectId/g, String(t.project.id)).replace(/:[A-Za-z]+/g, '1');
      const res = await t.app.server.inject({ method: method as 'GET', url: concrete, headers: { authorization: `Bearer ${t.personalKey}` } });
      assert.equal(res.statusCode, 405, `${method} ${url} is not in the document but answers ${res.statusCode}`);
    }
    for (const [method, path] of [['get', '/api/projects/'], ['post', '/api/projects/{projectId}/feature_flags/'], ['patch', '/api/projects/{projectId}/cohorts/{cohortId}/'], ['delete', '/api/personal_api_keys/{keyId}/'], ['get', '/api/projects/{projectId}/persons/'], ['get', '/api/projects/{projectId}/cohorts/{cohortId}/persons/']]) {
      assert.ok(doc.paths[path!]?.[method!], `${method} ${path}`);
    }
    assert.ok(documented >= 30, `documented operations: ${documented}`);
    assert.equal(doc.paths['/api/projects/{projectId}/feature_flags/'].delete, undefined, 'flags have no hard delete');
  });

  test('request bodies are the validating zod schemas', () => {
    const create = doc.paths['/api/projects/{projectId}/feature_flags/'].post.requestBody.content['application/json'].schema;
    assert.equal(create.type, 'object');
    assert.deepEqual(create.required, ['key']);
    assert.deepEqual(create.properties.evaluation_runtime.enum ?? create.properties.evaluation_runtime.anyOf?.[0]?.enum, ['server', 'client', 'all']);
    const patch = doc.paths['/api/projects/{projectId}/feature_flags/{flagId}/'].patch.requestBody;
    assert.equal(patch.required, false);
    assert.equal(patch.content['application/json'].schema.required, undefined, 'every PATCH field is optional');
    const key = doc.paths['/api/personal_api_keys/'].post.requestBody.content['application/json'].schema;
    assert.deepEqual([...key.required].sort(), ['label', 'scopes']);
    const project = doc.paths['/api/projects/'].post.requestBody.content['application/json'].schema;
    assert.equal(project.properties.name.maxLength, 200);
  });
});
