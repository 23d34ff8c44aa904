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
  CSRF_HEADER,
  createSessionService,
  createSignInCode,
  csrfTokenOf,
  type OpenSession,
  SESSION_COOKIE,
  type SessionService,
  type SessionView,
  SIGN_IN_LINK_TOKEN_NAME,
} from './sessions.js';
export {
  createTokenService,
  generateToken,
  hashToken,
  type Principal,
  type TokenService,
  type TokenView,
} from './tokens.js';
