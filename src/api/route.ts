import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import { type Access, allows, type Principal } from '../auth/index.js';
import { toSafeDatabaseError } from '../db/errors.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { validationError } from './errors.js';

/** What a handler knows about its request; services note the audit target's company on it. */
export interface RouteContext {
  principal: Principal;
  em: EntityManager;
  requestId: string;
  ip: string;
  signal: AbortSignal;
  log: Logger;
  audit: { companyId?: number | null; targetId?: string | number | null; details?: Record<string, unknown> };
}

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

interface RouteBase<P, Q, B> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express syntax under /api, e.g. `/credentials/:id`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * Audited routes write one audit row per attempt that passed validation. The handler's
   * database changes (through `ctx.em`) and the success row commit in one transaction, so a
   * change is never left applied without its row. `atomic: false` is for handlers that act
   * outside that transaction (Temporal workflows, signals, schedules): their effect cannot be
   * rolled back, and rows they write must be visible to a workflow before the request ends; a
   * failed audit write there is logged and the answer stays the handler's.
   */
  audit?: { action: string; target: string; atomic?: boolean };
}

export interface JsonRoute<P, Q, B> extends RouteBase<P, Q, B> {
  kind?: 'json';
  status: number;
  response: Schema;
  /** `req` is for the few handlers that read a body themselves (a streamed multipart upload). */
  handler(input: RouteInput<P, Q, B>, ctx: RouteContext, req: Request): Promise<unknown>;
}

export interface StreamRoute<P, Q, B> extends RouteBase<P, Q, B> {
  kind: 'sse';
  /** Documents the data of each event. */
  event: Schema;
  handler(input: RouteInput<P, Q, B>, ctx: RouteContext, res: Response): Promise<void>;
}

/** A file the handler streams itself (CSV, or JSON too large to build in memory). */
export interface DownloadRoute<P, Q, B> extends RouteBase<P, Q, B> {
  kind: 'download';
  contentType: 'text/csv' | 'application/json';
  /** Documents the file's content. */
  response: Schema;
  handler(input: RouteInput<P, Q, B>, ctx: RouteContext, res: Response): Promise<void>;
}

export type RouteDef<P, Q, B> = JsonRoute<P, Q, B> | StreamRoute<P, Q, B> | DownloadRoute<P, Q, B>;
export type AnyRoute = RouteDef<Schema | undefined, Schema | undefined, Schema | undefined>;

/** Typed helper: infers params/query/body from their schemas. */
export function route<
  P extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  B extends Schema | undefined = undefined,
>(def: RouteDef<P, Q, B>): AnyRoute {
  return def as unknown as AnyRoute;
}

export interface MountDeps {
  audit: AuditLog;
  /** Checks every response against its schema (tests turn it on to keep the OpenAPI document honest). */
  validateResponses?: boolean;
}

function parse(schema: Schema | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(where, result.error);
  return result.data;
}

/** The audit write's failure as a code; a database error's text is logged redacted, never raw. */
function auditErrorCode(error: unknown, log: Logger): string {
  const safe = toSafeDatabaseError(error, log);
  if (safe instanceof AppError) return safe.code;
  log.error({ err: safe }, 'audit write failed');
  return 'internal';
}

/** The change was rolled back with its audit row: nothing happened, so trying again is safe. */
function auditUnavailable(error: unknown, log: Logger): AppError {
  return new AppError(
    'audit_unavailable',
    'Nothing was changed: the audit record of this change could not be written. Try again later.',
    { cause: auditErrorCode(error, log) },
  );
}

function outcomeOf(error: unknown): 'denied' | 'failed' {
  return error instanceof AppError && (error.code === 'forbidden' || error.code === 'not_found')
    ? 'denied'
    : 'failed';
}

/**
 * Mounts route definitions: access check, validation of params, query and body, the handler,
 * the reply, and the audit row. Handlers only call a service.
 */
export function mountRoutes(router: Router, routes: readonly AnyRoute[], deps: MountDeps): void {
  for (const def of routes) {
    router[def.method](def.path, async (req: Request, res: Response) => {
      // The pattern, not the URL, labels the request's metrics (src/api/app.ts).
      res.locals.routePattern = `${req.baseUrl}${def.path}`;
      const ctx = res.locals.ctx as RouteContext;
      const record = async (
        outcome: 'success' | 'denied' | 'failed',
        extra: Record<string, unknown> = {},
        em: EntityManager = ctx.em.fork(),
      ) => {
        if (!def.audit) return;
        const rawId = req.params.id;
        await deps.audit.record(em, {
          actor: ctx.principal,
          action: def.audit.action,
          targetType: def.audit.target,
          targetId: ctx.audit.targetId ?? (typeof rawId === 'string' ? rawId.slice(0, 64) : null),
          companyId: ctx.audit.companyId ?? ctx.principal.companyId,
          ip: ctx.ip,
          requestId: ctx.requestId,
          outcome,
          details: { ...ctx.audit.details, ...extra },
        });
      };

      if (!allows(ctx.principal, def.access)) {
        await record('denied', { error: 'forbidden' });
        throw new AppError(
          'forbidden',
          `A ${ctx.principal.role} token may not ${def.summary.toLowerCase()}.`,
        );
      }
      const input = {
        params: parse(def.params, req.params, 'params'),
        query: parse(def.query, req.query ?? {}, 'query'),
        body: parse(def.body, req.body ?? {}, 'body'),
      } as RouteInput<Schema, Schema, Schema>;
      if (def.body && req.body && typeof req.body === 'object')
        ctx.audit.details = { fields: Object.keys(req.body as object).sort() };

      try {
        if (def.kind === 'sse' || def.kind === 'download') {
          await def.handler(input, ctx, res);
          await record('success');
          return;
        }
        const handle = async (em: EntityManager) => {
          const result = await def.handler(input, { ...ctx, em }, req);
          if (deps.validateResponses) {
            const checked = def.response.safeParse(result);
            if (!checked.success)
              throw new Error(
                `Response of ${def.method.toUpperCase()} ${def.path} does not match its schema: ${checked.error.message}`,
              );
          }
          if (ctx.audit.targetId == null && result && typeof result === 'object' && 'id' in result)
            ctx.audit.targetId = result.id as string | number;
          return result;
        };
        let result: unknown;
        if (def.audit && def.audit.atomic !== false) {
          result = await ctx.em.transactional(async (tem) => {
            const value = await handle(tem);
            await record('success', {}, tem).catch((auditError: unknown) => {
              throw auditUnavailable(auditError, ctx.log);
            });
            return value;
          });
        } else {
          result = await handle(ctx.em);
          await record('success').catch((auditError: unknown) =>
            // The effect (a workflow started, a signal sent) stands; answering 500 would only
            // invite a duplicate. The missing row must be noticed: logged at error level.
            ctx.log.error(
              {
                code: auditErrorCode(auditError, ctx.log),
                action: def.audit?.action,
                target: ctx.audit.targetId,
              },
              'audit write failed after a change that cannot be undone',
            ),
          );
        }
        if (def.status === 204) res.status(204).end();
        else res.status(def.status).json(result);
      } catch (error) {
        await record(outcomeOf(error), { error: error instanceof AppError ? error.code : 'internal' }).catch(
          (auditError: unknown) =>
            ctx.log.error({ code: auditErrorCode(auditError, ctx.log) }, 'audit write failed'),
        );
        throw error;
      }
    });
  }
}
