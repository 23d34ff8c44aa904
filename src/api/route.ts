import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import type { AuditLog } from '../audit/index.js';
import { type Access, allows, type Principal } from '../auth/index.js';
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
  /** Audited routes write one audit row per attempt that passed validation. */
  audit?: { action: string; target: string };
}

export interface JsonRoute<P, Q, B> extends RouteBase<P, Q, B> {
  kind?: 'json';
  status: number;
  response: Schema;
  handler(input: RouteInput<P, Q, B>, ctx: RouteContext): Promise<unknown>;
}

export interface StreamRoute<P, Q, B> extends RouteBase<P, Q, B> {
  kind: 'sse';
  /** Documents the data of each event. */
  event: Schema;
  handler(input: RouteInput<P, Q, B>, ctx: RouteContext, res: Response): Promise<void>;
}

export type RouteDef<P, Q, B> = JsonRoute<P, Q, B> | StreamRoute<P, Q, B>;
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
      const ctx = res.locals.ctx as RouteContext;
      const record = async (
        outcome: 'success' | 'denied' | 'failed',
        extra: Record<string, unknown> = {},
      ) => {
        if (!def.audit) return;
        const rawId = req.params.id;
        await deps.audit.record(ctx.em.fork(), {
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
        if (def.kind === 'sse') {
          await def.handler(input, ctx, res);
          await record('success');
          return;
        }
        const result = await def.handler(input, ctx);
        if (deps.validateResponses) {
          const checked = def.response.safeParse(result);
          if (!checked.success)
            throw new Error(
              `Response of ${def.method.toUpperCase()} ${def.path} does not match its schema: ${checked.error.message}`,
            );
        }
        if (ctx.audit.targetId == null && result && typeof result === 'object' && 'id' in result)
          ctx.audit.targetId = result.id as string | number;
        await record('success');
        if (def.status === 204) res.status(204).end();
        else res.status(def.status).json(result);
      } catch (error) {
        await record(outcomeOf(error), { error: error instanceof AppError ? error.code : 'internal' }).catch(
          (auditError) => ctx.log.error({ err: auditError }, 'audit write failed'),
        );
        throw error;
      }
    });
  }
}
