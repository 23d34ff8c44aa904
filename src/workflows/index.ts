export { freshnessWorkflow } from './freshness.workflow.js';
export { notificationDeliveryWorkflow } from './notification-delivery.workflow.js';
export { retentionWorkflow } from './retention.workflow.js';
export { scheduledSyncWorkflow } from './scheduled-sync.workflow.js';
export { syncTenantWorkflow } from './sync-tenant.workflow.js';
