import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { ApiToken } from './api-token.entity.js';

/**
 * A browser console's signed-in session. The cookie carries a random 256-bit id; only its SHA-256
 * is stored, so a copy of the table cannot be replayed as cookies. The session is only as good
 * as the token it was opened with: a session of a revoked (or deleted) token no longer works.
 */
export const ConsoleSession = defineEntity({
  name: 'ConsoleSession',
  tableName: 'console_sessions',
  properties: {
    id: p.integer().primary(),
    sessionHash: p.string().length(64).unique('console_sessions_session_hash_unique'),
    /** Null for a session of the ADMIN_TOKEN bootstrap token. */
    token: () => p.manyToOne(ApiToken).nullable().deleteRule('cascade'),
    /**
     * For a bootstrap session: the SHA-256 of the ADMIN_TOKEN it was opened with, so changing
     * ADMIN_TOKEN ends those sessions as revoking a stored token ends its own.
     */
    bootstrapTokenHash: p.string().length(64).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime().index('console_sessions_expires_at_index'),
    lastSeenAt: p.datetime(),
  },
});
export type IConsoleSession = InferEntity<typeof ConsoleSession>;

/**
 * A one-time sign-in code (the link `npm start` prints). Only its SHA-256 is stored; using it
 * sets `usedAt`, in the same statement that checks it was unused, so it works once.
 */
export const SignInCode = defineEntity({
  name: 'SignInCode',
  tableName: 'sign_in_codes',
  properties: {
    id: p.integer().primary(),
    codeHash: p.string().length(64).unique('sign_in_codes_code_hash_unique'),
    token: () => p.manyToOne(ApiToken).deleteRule('cascade'),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
export type ISignInCode = InferEntity<typeof SignInCode>;
