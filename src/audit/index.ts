import type { EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/index.js';
import { AuditEvent, type AuditOutcome, type IAuditEvent } from '../db/entities/index.js';

export interface AuditEntry {
  actor: Principal;
  action: string;
  targetType: string;
  targetId?: string | number | null;
  companyId?: number | null;
  ip?: string | null;
  requestId?: string | null;
  outcome: AuditOutcome;
  /** Codes, field names, counts. Callers never put a secret here. */
  details?: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  companyId?: number | undefined;
  actorTokenId?: number | undefined;
  outcome?: AuditOutcome | undefined;
  from?: string | undefined;
  to?: string | undefined;
  page: number;
  pageSize: number;
}

export interface AuditView {
  id: string;
  at: string;
  actor: { tokenId: number | null; name: string; role: string };
  action: string;
  target: { type: string; id: string | null };
  companyId: number | null;
  ip: string | null;
  requestId: string | null;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
}

function toView(e: IAuditEvent): AuditView {
  return {
    id: String(e.id),
    at: e.at.toISOString(),
    actor: { tokenId: e.actorTokenId ?? null, name: e.actorName, role: e.actorRole },
    action: e.action,
    target: { type: e.targetType, id: e.targetId ?? null },
    companyId: e.companyId ?? null,
    ip: e.ip ?? null,
    requestId: e.requestId ?? null,
    outcome: e.outcome,
    details: e.details,
  };
}

/** The audit trail: one row per change and per credential read or test. */
export function createAuditLog() {
  return {
    /** Writes in its own flush on `em` (callers pass a fork, so a failed change still leaves its row). */
    async record(em: EntityManager, entry: AuditEntry): Promise<void> {
      em.create(AuditEvent, {
        actorTokenId: entry.actor.tokenId,
        actorName: entry.actor.name,
        actorRole: entry.actor.role,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId == null ? null : String(entry.targetId),
        companyId: entry.companyId ?? null,
        ip: entry.ip?.slice(0, 64) ?? null,
        requestId: entry.requestId?.slice(0, 64) ?? null,
        outcome: entry.outcome,
        details: entry.details ?? {},
      });
      await em.flush();
    },

    /** Newest first. `scopeCompanyId` limits a company-limited admin to its company's rows. */
    async list(em: EntityManager, filter: AuditFilter, scopeCompanyId: number | null) {
      const where: FilterQuery<IAuditEvent> = {};
      if (filter.action) where.action = filter.action;
      if (filter.targetType) where.targetType = filter.targetType;
      if (filter.targetId) where.targetId = filter.targetId;
      if (filter.actorTokenId !== undefined) where.actorTokenId = filter.actorTokenId;
      if (filter.outcome) where.outcome = filter.outcome;
      const companyId = scopeCompanyId ?? filter.companyId;
      if (scopeCompanyId !== null && filter.companyId !== undefined && filter.companyId !== scopeCompanyId)
        return { items: [], page: filter.page, pageSize: filter.pageSize, total: 0 };
      if (companyId !== undefined) where.companyId = companyId;
      if (filter.from || filter.to)
        where.at = {
          ...(filter.from ? { $gte: new Date(filter.from) } : {}),
          ...(filter.to ? { $lt: new Date(filter.to) } : {}),
        };
      const [rows, total] = await em.findAndCount(AuditEvent, where, {
        orderBy: { id: 'desc' },
        limit: filter.pageSize,
        offset: (filter.page - 1) * filter.pageSize,
      });
      return { items: rows.map(toView), page: filter.page, pageSize: filter.pageSize, total };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
