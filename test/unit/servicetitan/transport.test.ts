import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUndiciTransport, type HttpTransport } from '../../../src/servicetitan/transport.js';

const page = Buffer.from(JSON.stringify({ data: [{ id: 1, name: 'Zoë' }], hasMore: false }));

describe('GETs through undici', () => {
  let server: http.Server;
  let base: string;
  let transport: HttpTransport;
  const seen: http.IncomingMessage[] = [];
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  beforeEach(async () => {
    seen.length = 0;
    server = http.createServer((req, res) => {
      seen.push(req);
      handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    transport = createUndiciTransport();
  });

  afterEach(async () => {
    transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path = '/page', signal = AbortSignal.timeout(5_000)) =>
    transport.get(`${base}${path}`, {
      headers: { Authorization: 'Bearer tok-1', 'ST-App-Key': 'key' },
      signal,
    });

  it('when the server compresses the body (gzip, deflate, br), then the bytes are the body as sent', async () => {
    for (const [encoding, compress] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const) {
      handle = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding });
        res.end(compress(page));
      };
      const answer = await get();
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-encoding')).toBe(encoding);
      expect(Buffer.from(await answer.bytes()).equals(page)).toBe(true);
    }
    expect(seen.map((req) => req.headers['accept-encoding'])).toEqual(Array(3).fill('gzip, deflate, br'));
    expect(seen[0]!.headers.authorization).toBe('Bearer tok-1');
    expect(seen[0]!.headers['st-app-key']).toBe('key');
  });

  it('when the server sends a plain body, then the bytes are that body and repeated headers keep every value', async () => {
    handle = (_req, res) => {
      res.setHeader('link', ['<a>; rel="next"', '<b>; rel="last"']);
      res.writeHead(404, { 'content-type': 'application/problem+json', 'retry-after': '3' });
      res.end(page);
    };
    const answer = await get();
    expect(answer.status).toBe(404);
    expect(answer.headers.get('retry-after')).toBe('3');
    expect(answer.headers.get('link')).toBe('<a>; rel="next", <b>; rel="last"');
    expect(Buffer.from(await answer.bytes()).equals(page)).toBe(true);
  });

  it('when the server redirects, then the answer is the redirect itself and the token goes nowhere else', async () => {
    handle = (req, res) => {
      if (req.url === '/page') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(200).end(page);
    };
    const answer = await get();
    expect(answer.status).toBe(302);
    await answer.bytes();
    expect(seen.map((req) => req.url)).toEqual(['/page']);
  });

  it('when the body is cut off, then reading it fails', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-length': String(page.length) });
      res.write(page.subarray(0, 10));
      setTimeout(() => res.destroy(), 20);
    };
    const answer = await get();
    expect(answer.status).toBe(200);
    await expect(answer.bytes()).rejects.toThrow();
  });

  it('when a large body comes with its length or without, then the bytes are that body; cut off, reading it fails', async () => {
    // 300 KB: read into a buffer of page-buffers' spares rather than joined into a new one.
    const large = Buffer.from(
      JSON.stringify({ data: Array.from({ length: 3_000 }, (_, id) => ({ id, name: 'x'.repeat(80) })) }),
    );
    for (const announced of [true, false]) {
      handle = (_req, res) => {
        res.writeHead(200, announced ? { 'content-length': String(large.length) } : {});
        // In pieces, as a socket delivers a large body.
        for (let at = 0; at < large.length; at += 50_000) res.write(large.subarray(at, at + 50_000));
        res.end();
      };
      const answer = await get();
      expect(Buffer.from(await answer.bytes()).equals(large)).toBe(true);
    }
    handle = (_req, res) => {
      res.writeHead(200, { 'content-length': String(large.length) });
      res.write(large.subarray(0, 100_000));
      setTimeout(() => res.destroy(), 20);
    };
    await expect((await get()).bytes()).rejects.toThrow();
  });

  it('when the body comes in an encoding not asked for, then reading it fails and says which', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-encoding': 'zstd' });
      res.end(page);
    };
    const answer = await get();
    await expect(answer.bytes()).rejects.toThrow('an encoding not asked for (zstd)');
  });

  it('when Node is told to use the environment proxy, then requests go through HTTP_PROXY, as fetch would', async () => {
    // A forwarding proxy: undici tunnels through it with CONNECT.
    const tunnels: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const saved = { use: process.env.NODE_USE_ENV_PROXY, proxy: process.env.HTTP_PROXY };
    process.env.NODE_USE_ENV_PROXY = '1';
    process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const viaProxy = createUndiciTransport();
    try {
      handle = (_req, res) => res.writeHead(200).end(page);
      const answer = await viaProxy.get(`${base}/page`, { headers: {}, signal: AbortSignal.timeout(5_000) });
      expect(answer.status).toBe(200);
      expect(Buffer.from(await answer.bytes()).equals(page)).toBe(true);
      expect(tunnels).toEqual([base.replace('http://', '')]);
      expect(seen.map((req) => req.url)).toEqual(['/page']);
    } finally {
      viaProxy.close();
      for (const [name, value] of [
        ['NODE_USE_ENV_PROXY', saved.use],
        ['HTTP_PROXY', saved.proxy],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('when the signal aborts while the server thinks, then the request fails with the abort', async () => {
    // Aborted once the server holds the request, however long it took to get there.
    let arrived!: () => void;
    const thinking = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    handle = () => arrived();
    const controller = new AbortController();
    const pending = get('/page', controller.signal);
    await thinking;
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow();
    expect(seen).toHaveLength(1);
  });
});
