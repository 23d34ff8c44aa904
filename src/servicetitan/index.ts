export {
  type BreakerState,
  type BreakerTransition,
  type CircuitBreaker,
  CircuitOpen,
  createCircuitBreaker,
} from './circuit-breaker.js';
export {
  createServiceTitanClient,
  type ExportPagesOptions,
  type ListPagesOptions,
  type ServiceTitanClient,
  type ServiceTitanClientStats,
  type TenantApi,
} from './client.js';
export type { ConnectionStatus, ConnectionTestResult, StreamAccess } from './connection-test.js';
export {
  AppNotApproved,
  BadRequest,
  CredentialForAnotherTenant,
  InvalidAppKey,
  InvalidCredentials,
  isAbortError,
  isRetryable,
  ModuleNotLicensed,
  NotFound,
  PaginationLoop,
  RateLimited,
  ResponseValidation,
  retryAfterMs,
  ServiceTitanConfigError,
  ServiceTitanError,
  ServiceTitanUnavailable,
  TokenRejected,
  type UnavailableReason,
} from './errors.js';
export { parseRetryAfter } from './retry-after.js';
export {
  type CustomerContactRecord,
  type CustomerRecord,
  type InvoiceRecord,
  type LocationRecord,
  type RecordOf,
  type StreamDefinition,
  type StreamName,
  streamNames,
  streams,
} from './streams/index.js';
export type {
  ExportPage,
  InvalidRecord,
  ListPage,
  ServiceTitanClientOptions,
  ServiceTitanEndpoints,
  ServiceTitanEnvironment,
  ServiceTitanObserver,
  TenantCredential,
} from './types.js';
