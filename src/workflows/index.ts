export { syncTenantWorkflow } from './sync-tenant.workflow.js';
