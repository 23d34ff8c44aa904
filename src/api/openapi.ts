import { z } from 'zod';
import { SESSION_COOKIE } from '../auth/index.js';
import { errorBodySchema, statusByCode } from './errors.js';
import type { AnyRoute } from './route.js';
import { sessionCreateSchema, sessionView } from './schemas.js';

type JsonSchema = Record<string, unknown>;

/** zod → JSON Schema 2020-12 (what OpenAPI 3.1 uses), named schemas collected as components. */
function toSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, JsonSchema>,
): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    reused: 'inline',
  }) as JsonSchema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  delete json.$schema;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      const out: JsonSchema = {};
      for (const [k, v] of Object.entries(value)) {
        out[k] =
          k === '$ref' && typeof v === 'string'
            ? v.replace(
                /^#\/\$defs\/(.+)$/,
                (_m, name: string) => `#/components/schemas/${name}${io === 'input' ? 'Input' : ''}`,
              )
            : rewrite(v);
      }
      return out;
    }
    return value;
  };
  for (const [name, def] of Object.entries(defs))
    components[`${name}${io === 'input' ? 'Input' : ''}`] = rewrite(def) as JsonSchema;
  return rewrite(json) as JsonSchema;
}

function parametersOf(
  schema: z.ZodType | undefined,
  where: 'path' | 'query',
  components: Record<string, JsonSchema>,
) {
  if (!schema) return [];
  const json = toSchema(schema, 'input', components);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
  }));
}

/** Which error statuses a route can answer, for its documentation. */
function errorStatuses(route: AnyRoute): number[] {
  const statuses = new Set([401, 403, 429, 500]);
  if (route.params || route.query || route.body) statuses.add(400);
  if (route.params) statuses.add(404);
  if (route.body) statuses.add(413);
  if (route.method !== 'get') statuses.add(409);
  return [...statuses].sort();
}

/** The OpenAPI 3.1 document of every route, built from the same zod schemas that validate them. */
export function buildOpenApiDocument(routes: readonly AnyRoute[], info: { version: string }) {
  const components: Record<string, JsonSchema> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  // The error body has its own id ('Error'): toSchema files it under components itself and
  // answers a $ref to it, which assigned here would make the component point at itself.
  const error = toSchema(errorBodySchema, 'output', components);
  if (!components.Error) components.Error = error;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `/api${route.path.replace(/:(\w+)/g, '{$1}')}`;
    const responses: Record<string, unknown> = {};
    if (route.kind === 'sse') {
      responses['200'] = {
        description: 'Server-sent events: `progress` while the run is active, then one `end`.',
        content: { 'text/event-stream': { schema: toSchema(route.event, 'output', components) } },
      };
    } else if (route.kind === 'download') {
      responses['200'] = {
        description: route.summary,
        content: { [route.contentType]: { schema: toSchema(route.response, 'output', components) } },
      };
    } else if (route.status === 204) {
      responses['204'] = { description: 'Done' };
    } else {
      responses[String(route.status)] = {
        description: route.summary,
        content: { 'application/json': { schema: toSchema(route.response, 'output', components) } },
      };
    }
    for (const status of errorStatuses(route)) {
      const codes = Object.entries(statusByCode)
        .filter(([, s]) => s === status)
        .map(([c]) => c);
      responses[String(status)] = {
        description: status === 500 ? 'internal' : codes.join(', ') || 'error',
        content: { 'application/json': { schema: errorRef } },
      };
    }
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: `${route.method}${route.path
        .replace(/\/:?(\w)(\w*)/g, (_m, a: string, b: string) => a.toUpperCase() + b)
        .replace(/\.(\w)/g, (_m, a: string) => a.toUpperCase())}`,
      summary: route.summary,
      tags: [route.tag],
      'x-required-access': route.access,
      parameters: [
        ...parametersOf(route.params, 'path', components),
        ...parametersOf(route.query, 'query', components),
      ],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toSchema(route.body, 'input', components) } },
            },
          }
        : {}),
      responses,
      security: [{ bearer: [] }, { session: [] }],
    };
  }
  paths['/api/session'] = sessionOperations(components, errorRef);
  return {
    openapi: '3.1.0',
    info: {
      title: 'servicetitan-sync admin API',
      version: info.version,
      description:
        'Manages companies, ServiceTitan credentials, syncs and schedules. Every route needs `Authorization: Bearer <token>` ' +
        "or the browser console's `stsync_session` cookie (from `POST /api/session`), with the `X-CSRF-Token` header of that " +
        'session on POST, PUT, PATCH and DELETE; ' +
        'viewers read, operators also run and schedule syncs, admins also manage credentials, companies and tokens.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
      },
    },
  };
}

/** The console session's operations (src/api/routes/session.routes.ts): outside the route table, as they authenticate. */
function sessionOperations(components: Record<string, JsonSchema>, errorRef: JsonSchema) {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: errorRef } },
  });
  const session = {
    content: { 'application/json': { schema: toSchema(sessionView, 'output', components) } },
  };
  const cookie = `Sets the HttpOnly, SameSite=Strict \`${SESSION_COOKIE}\` cookie (Secure over https).`;
  return {
    post: {
      operationId: 'postSession',
      summary: 'Sign the console in with an API token',
      description: `${cookie} The answer's \`csrfToken\` goes in the \`X-CSRF-Token\` header of every change made with the cookie.`,
      tags: ['Session'],
      parameters: [],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: toSchema(sessionCreateSchema, 'input', components) } },
      },
      responses: {
        '200': { description: 'Signed in', ...session },
        '400': error('validation_failed, invalid_json'),
        '401': error('unauthorized: the token is unknown or revoked'),
        '429': error('rate_limited'),
        '500': error('internal'),
      },
      security: [],
    },
    get: {
      operationId: 'getSession',
      summary: 'Get the signed-in console session',
      tags: ['Session'],
      parameters: [],
      responses: {
        '200': { description: 'The session', ...session },
        '401': error('unauthorized: not signed in, or the session ended'),
        '429': error('rate_limited'),
        '500': error('internal'),
      },
      security: [{ session: [] }],
    },
    delete: {
      operationId: 'deleteSession',
      summary: 'Sign the console out',
      description: `Ends the session and clears its cookie; needs \`X-CSRF-Token\` while the session is live.`,
      tags: ['Session'],
      parameters: [],
      responses: {
        '204': { description: 'Signed out' },
        '403': error('csrf_failed'),
        '500': error('internal'),
      },
      security: [{ session: [] }],
    },
  };
}
