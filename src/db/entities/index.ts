export * from './api-token.entity.js';
export * from './audit-event.entity.js';
export * from './company.entity.js';
export * from './console-session.entity.js';
export * from './feature-flag.entity.js';
export * from './ingest.entities.js';
export * from './installation.entity.js';
export * from './notification.entities.js';
export * from './rate-budget.entity.js';
export * from './reconciliation.entities.js';
export * from './servicetitan-breaker.entity.js';
export * from './servicetitan-credential.entity.js';
export * from './sync-run.entity.js';
export * from './sync-stream-state.entity.js';

import { ApiToken } from './api-token.entity.js';
import { AuditEvent } from './audit-event.entity.js';
import { Company } from './company.entity.js';
import { ConsoleSession, SignInCode } from './console-session.entity.js';
import { FeatureFlag } from './feature-flag.entity.js';
import {
  CustomerContact,
  InvoiceRecord,
  MemberRecord,
  OutboxEvent,
  SkippedRecord,
  SyncSchedule,
} from './ingest.entities.js';
import { Installation } from './installation.entity.js';
import {
  EmailDelivery,
  NotificationRecipient,
  WebhookDelivery,
  WebhookSubscription,
} from './notification.entities.js';
import { RateBudget } from './rate-budget.entity.js';
import { Reconciliation, ReconciliationDifference } from './reconciliation.entities.js';
import { ServiceTitanBreaker } from './servicetitan-breaker.entity.js';
import { ServiceTitanCredential } from './servicetitan-credential.entity.js';
import { SyncRun, SyncRunPosition } from './sync-run.entity.js';
import { SyncStreamState } from './sync-stream-state.entity.js';

export const entities = [
  Company,
  ServiceTitanCredential,
  SyncRun,
  SyncRunPosition,
  SyncStreamState,
  MemberRecord,
  InvoiceRecord,
  CustomerContact,
  SkippedRecord,
  OutboxEvent,
  SyncSchedule,
  ApiToken,
  AuditEvent,
  Installation,
  ConsoleSession,
  SignInCode,
  ServiceTitanBreaker,
  RateBudget,
  FeatureFlag,
  WebhookSubscription,
  WebhookDelivery,
  NotificationRecipient,
  EmailDelivery,
  Reconciliation,
  ReconciliationDifference,
];
