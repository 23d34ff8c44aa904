import type { MikroORM } from '@mikro-orm/postgresql';
import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/api/app.js';
import { createOrm } from '../../../src/db/orm.js';
import { freePort } from '../../../src/infra/free-port.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../../src/infra/temporal-dev-server.js';
import type { TemporalClientHandle } from '../../../src/temporal/client.js';
import { connectTestOrm, testLogger } from '../../support/integration.js';

describe('/healthz and /readyz', () => {
  let orm: MikroORM;
  // A Temporal server of this test's own: the test stops it.
  let temporalServer: TemporalDevServer;
  let temporal: TemporalClientHandle;

  beforeAll(async () => {
    orm = await connectTestOrm();
    temporalServer = await startTemporalDevServer({ logger: testLogger });
    // Without the SDK's gRPC retries: a retry timer still pending against the stopped server
    // would fire after afterAll closed the connection ("Channel has been shut down", uncaught).
    const connection = Connection.lazy({ address: temporalServer.address, interceptors: [] });
    temporal = { client: new Client({ connection, namespace: 'default' }), close: () => connection.close() };
  });
  afterAll(async () => {
    await temporal?.close();
    await temporalServer?.stop();
    await orm?.close();
  });

  it('when PostgreSQL and Temporal answer, then /readyz is 200, and when Temporal stops, then 503 names Temporal', async () => {
    const app = createApp({ orm, temporal: temporal.client, logger: testLogger });

    const live = await request(app).get('/healthz');
    expect(live.status).toBe(200);
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', dependencies: { postgres: 'ok', temporal: 'ok' } });
    expect(ready.headers['x-request-id']).toMatch(/\S+/);

    await temporalServer.stop();

    const notReady = await request(app).get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.dependencies).toEqual({ postgres: 'ok', temporal: 'unavailable' });
    expect(notReady.body.message).toMatch(/temporal/i);
    expect(notReady.body.message).not.toMatch(/postgres/i);
    // Liveness does not depend on the dependencies.
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('when PostgreSQL does not answer, then /readyz is 503 naming PostgreSQL', async () => {
    const deadOrm = await createOrm({ url: `postgresql://postgres@127.0.0.1:${await freePort()}/nothing` });
    try {
      const app = createApp({ orm: deadOrm, temporal: temporal.client, logger: testLogger });
      const res = await request(app).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.dependencies.postgres).toBe('unavailable');
      expect(res.body.message).toMatch(/postgres/i);
    } finally {
      await deadOrm.close();
    }
  });

  it('when an API route does not exist, then the answer is a JSON 404 (page paths belong to the console)', async () => {
    const app = createApp({ orm, temporal: temporal.client, logger: testLogger });
    const res = await request(app).post('/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: 'No route for POST /nope' });
  });
});
