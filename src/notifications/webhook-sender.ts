import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { checkWebhookUrl, guardedLookup, type WebhookUrlPolicy } from './url-policy.js';

/** A new signing secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** A message id: the same for every attempt of one delivery, so receivers can deduplicate. */
export function newMessageId(): string {
  return `msg_${randomBytes(16).toString('hex')}`;
}

/**
 * The Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`,
 * keyed with the base64-decoded part of the secret after `whsec_`.
 */
export function signWebhook(
  secret: string,
  messageId: string,
  timestampSeconds: number,
  body: string,
): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export interface WebhookAttemptResult {
  ok: boolean;
  /** The receiver's HTTP status, or null when none came (refused, timeout, connection error). */
  status: number | null;
  /** A short reason for a failure; never the receiver's body (it could echo anything). */
  error: string | null;
}

/**
 * POSTs one signed message. Redirects are not followed (a 3xx is a failure): following one would
 * step around the address check. The receiver's answer body is read and dropped.
 */
export async function postWebhook(input: {
  url: string;
  secret: string;
  messageId: string;
  body: string;
  policy: WebhookUrlPolicy;
  timeoutMs: number;
  now?: () => number;
}): Promise<WebhookAttemptResult> {
  let url: URL;
  try {
    url = await checkWebhookUrl(input.url, input.policy);
  } catch (error) {
    return { ok: false, status: null, error: error instanceof Error ? error.message : 'refused' };
  }
  const timestamp = Math.floor((input.now?.() ?? Date.now()) / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'servicetitan-sync-webhooks/1',
    'webhook-id': input.messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook(input.secret, input.messageId, timestamp, input.body),
    'content-length': String(Buffer.byteLength(input.body)),
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const done = (result: WebhookAttemptResult) => {
      clearTimeout(timer);
      resolve(result);
    };
    const req = transport.request(
      url,
      { method: 'POST', headers, lookup: guardedLookup(input.policy) as never, agent: false },
      (res) => {
        res.on('data', () => {});
        res.on('error', () => {});
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          done({ ok, status, error: ok ? null : `The receiver answered ${status}.` });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`No answer within ${Math.round(input.timeoutMs / 1000)} s.`));
    }, input.timeoutMs);
    req.on('error', (error: Error) => done({ ok: false, status: null, error: error.message.slice(0, 300) }));
    req.end(input.body);
  });
}
