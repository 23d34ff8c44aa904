export {
  type Access,
  allows,
  assertVisible,
  mayReadPersonalData,
  requireAccess,
  requireUnrestricted,
} from './access.js';
export { createFailureLimiter, type FailureLimiter } from './failure-limiter.js';
export {
  createTokenService,
  generateToken,
  hashToken,
  type Principal,
  type TokenService,
  type TokenView,
} from './tokens.js';
