import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminRoutes } from '../../../src/api/admin-api.js';
import { testLogger } from '../../support/integration.js';
import { type ApiHarness, startApiHarness } from './support/harness.js';

/** The OpenAPI 3.1 document's required structure (the parts a client generator depends on). */
const documentShape = {
  type: 'object',
  required: ['openapi', 'info', 'paths', 'components'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'] },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: ['get', 'put', 'post', 'delete', 'patch'] },
        additionalProperties: {
          type: 'object',
          required: ['operationId', 'responses'],
          properties: {
            parameters: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'in', 'schema'],
                properties: { in: { enum: ['path', 'query'] } },
              },
            },
            requestBody: { type: 'object', required: ['content'] },
            responses: { type: 'object', minProperties: 1, propertyNames: { pattern: '^[1-5]\\d\\d$' } },
          },
        },
      },
    },
    components: { type: 'object', required: ['schemas', 'securitySchemes'] },
  },
};

describe('OpenAPI document', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when /api/openapi.json is fetched, then it is valid OpenAPI 3.1 listing every route with its schemas', async () => {
    const res = await h.call('get', '/api/openapi.json', { token: null });
    expect(res.status).toBe(200);
    const doc = res.body;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    expect(ajv.validate(documentShape, doc), ajv.errorsText()).toBe(true);

    // Every schema in the document compiles as JSON Schema 2020-12, with component refs resolvable.
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const refsResolve = (schema: unknown) =>
      ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));

    const { routes } = createAdminRoutes({ taskQueue: 'x', installationId: 'x' });
    const listed = [
      ...routes(h.temporal, undefined, { orm: h.orm, logger: testLogger }).map(
        (r) => `${r.method} /api${r.path.replace(/:(\w+)/g, '{$1}')}`,
      ),
      // The console session's operations, outside the route table (src/api/routes/session.routes.ts).
      'post /api/session',
      'get /api/session',
      'delete /api/session',
    ];
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m} ${path}`),
    );
    expect(documented.sort()).toEqual(listed.sort());
    expect(documented.length).toBeGreaterThanOrEqual(28);

    for (const route of routes(h.temporal, undefined, { orm: h.orm, logger: testLogger })) {
      const op = doc.paths[`/api${route.path.replace(/:(\w+)/g, '{$1}')}`][route.method];
      if (route.body) refsResolve(op.requestBody.content['application/json'].schema);
      const success =
        op.responses[route.kind === 'sse' || route.kind === 'download' ? '200' : String(route.status)];
      expect(success, `${route.method} ${route.path}`).toBeDefined();
      const content =
        success.content?.['application/json'] ??
        success.content?.['text/event-stream'] ??
        success.content?.['text/csv'];
      if (route.kind === 'sse' || route.kind === 'download' || route.status !== 204)
        refsResolve(content.schema);
      for (const p of op.parameters) refsResolve(p.schema);
      expect(op.responses['401']).toBeDefined();
    }
    expect(doc.paths['/api/session'].post.requestBody.content['application/json'].schema.required).toEqual([
      'token',
    ]);
    refsResolve(doc.paths['/api/session'].get.responses['200'].content['application/json'].schema);
    expect(doc.components.schemas.Session.required).toEqual(['principal', 'csrfToken', 'expiresAt']);
    expect(doc.components.securitySchemes.session).toEqual({
      type: 'apiKey',
      in: 'cookie',
      name: 'stsync_session',
    });
    expect(
      doc.paths['/api/credentials'].post.requestBody.content['application/json'].schema.required,
    ).toEqual(expect.arrayContaining(['companyId', 'environment', 'tenantId', 'clientId', 'clientSecret']));
  });
});
