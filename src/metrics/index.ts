export { breakerStateValue, createMetrics, type Metrics, registerDatabaseMetrics } from './metrics.js';
export { answerScrape, type MetricsServer, metricsAuthorized, startMetricsServer } from './server.js';
