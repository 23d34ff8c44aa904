import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/**
 * The CSRF token of the current session. In memory only: a page script must never find a
 * credential in web storage, and a reload fetches it again with GET /api/session.
 */
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Cookie-authenticated state changes carry X-CSRF-Token (the session cookie alone is refused). */
export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (csrfToken && unsafeMethods.has(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

let onUnauthorized: () => void = () => {};

/** What the console does when the API says the session is gone (it shows the sign-in page). */
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler;
}

/** Any 401 from the API means the session expired or was ended elsewhere. */
export const unauthorizedMiddleware: Middleware = {
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return response;
  },
};

/** The typed API client: paths, parameters and bodies come from the API's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(csrfMiddleware, unauthorizedMiddleware);

/** An API error answer ({error, message}) as thrown to TanStack Query. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function toApiError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown };
  return new ApiError(
    status,
    typeof b.error === 'string' ? b.error : 'error',
    typeof b.message === 'string' ? b.message : `The server answered ${status}.`,
  );
}

/**
 * The data of an openapi-fetch answer, or its error as an ApiError (for TanStack Query):
 * `queryFn: () => ok(api.GET('/api/dashboard'))`.
 */
export async function ok<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending;
  if (error !== undefined || !response.ok) throw toApiError(response.status, error);
  return data as T;
}

/**
 * A query's retry rule for pages that may be refused: a 4xx answer (a page this token may not see,
 * an id that does not exist) will not change by asking again, so it shows at once.
 */
export function retryUnlessRefused(failures: number, error: Error): boolean {
  return failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500);
}
