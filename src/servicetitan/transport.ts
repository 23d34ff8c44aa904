import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { Agent, EnvHttpProxyAgent, request } from 'undici';
import { pooledBodyBytes, takePageBuffer } from './page-buffers.js';

/** What the HTTP executor needs of a GET: the status and headers when they arrive, the body's bytes when asked. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The body, decoded from its content encoding. Rejects when it is cut off. */
  bytes(): Promise<Uint8Array>;
}

export type HttpGet = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<HttpAnswer>;

export interface HttpTransport {
  get: HttpGet;
  /** Closes the transport's idle connections; a request after it fails. */
  close(): void;
}

const decoders: Record<string, (bytes: Uint8Array) => Promise<Uint8Array>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/**
 * GETs through undici's `request` on a keep-alive pool of this client's own, instead of the
 * global `fetch` (undici too, under the WHATWG layer). A page of 200 sandbox invoices (846 KB)
 * cost the worker's thread ~2 ms less this way (fetch streams the body through WHATWG streams,
 * a promise a chunk); the sync reads hundreds of such pages a minute. Like `fetch`, it asks
 * for a compressed body and decodes it (off the thread, in zlib's pool); unlike it, it follows no
 * redirect: the API answers where it is asked, and a bearer token goes nowhere else.
 */
export function createUndiciTransport(): HttpTransport {
  // Node's own fetch goes through HTTP_PROXY / HTTPS_PROXY / NO_PROXY when started with
  // NODE_USE_ENV_PROXY=1: so do these requests, or a worker behind an egress proxy would lose its way.
  const agent = process.env.NODE_USE_ENV_PROXY === '1' ? new EnvHttpProxyAgent() : new Agent();
  return {
    async get(url, { headers, signal }) {
      const answer = await request(url, {
        method: 'GET',
        headers: { ...headers, 'accept-encoding': 'gzip, deflate, br' },
        signal,
        dispatcher: agent,
      });
      const received = new Headers();
      for (const [name, value] of Object.entries(answer.headers)) {
        if (Array.isArray(value)) for (const v of value) received.append(name, v);
        else if (value !== undefined) received.set(name, value);
      }
      const encoding = received.get('content-encoding')?.trim().toLowerCase();
      return {
        status: answer.statusCode,
        headers: received,
        async bytes() {
          if (!encoding || encoding === 'identity') {
            return readBody(answer.body, received.get('content-length'));
          }
          const bytes = new Uint8Array(await answer.body.arrayBuffer());
          const decode = decoders[encoding];
          if (!decode) throw new TypeError(`the body came in an encoding not asked for (${encoding})`);
          return decode(bytes);
        },
      };
    },
    close() {
      agent.close().catch(() => {});
    },
  };
}

/** Larger bodies are joined as before, into a buffer of their own. */
const maxPooledBody = 16 * 1024 * 1024;

/**
 * The body's bytes; a large one (see page-buffers) in a buffer used before: read into it as it
 * arrives when its length is announced, else joined there at its end. More than announced is
 * refused, as a cut-off body is.
 */
async function readBody(body: AsyncIterable<Uint8Array>, announced: string | null): Promise<Uint8Array> {
  const length = announced === null ? Number.NaN : Number(announced);
  if (length >= pooledBodyBytes && length <= maxPooledBody) {
    const target = takePageBuffer(length);
    let filled = 0;
    for await (const chunk of body) {
      if (filled + chunk.length > length) {
        throw new RangeError(`the body is longer than its content-length (${length})`);
      }
      target.set(chunk, filled);
      filled += chunk.length;
    }
    return target.subarray(0, filled);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    total += chunk.length;
  }
  if (total < pooledBodyBytes || total > maxPooledBody) return Buffer.concat(chunks, total);
  const target = takePageBuffer(total);
  let filled = 0;
  for (const chunk of chunks) {
    target.set(chunk, filled);
    filled += chunk.length;
  }
  return target.subarray(0, total);
}

/** The same GET through a `fetch` (unit tests inject one). */
export function fetchTransport(fetchImpl: typeof fetch): HttpTransport {
  return {
    async get(url, { headers, signal }) {
      const response = await fetchImpl(url, { method: 'GET', headers, signal });
      return {
        status: response.status,
        headers: response.headers,
        bytes: async () => new Uint8Array(await response.arrayBuffer()),
      };
    },
    close() {},
  };
}
