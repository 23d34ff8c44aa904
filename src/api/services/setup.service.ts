import { AppError } from '../../errors.js';
import type { ServiceTitanEndpoints, ServiceTitanEnvironment } from '../../servicetitan/index.js';
import { requireSecureBaseUrl } from '../../servicetitan/url-policy.js';
import { probe, type Readiness } from '../health.routes.js';

/** What this deployment was configured with, as the Setup page needs it (never a secret's value). */
export interface SetupOptions {
  /** Where the ServiceTitan app key comes from: SERVICETITAN_APP_KEY, the embedded sandbox's own, or nowhere. */
  appKey: 'configured' | 'sandbox' | 'missing';
  /** The auth and API base URLs per environment (the SERVICETITAN_*_URL settings, or the sandbox's). */
  environments: Record<ServiceTitanEnvironment, ServiceTitanEndpoints>;
  /** The encryption keys' versions and where they come from; undefined: none. */
  encryption: { source: 'environment' | 'local-file'; versions: readonly string[] } | undefined;
  /** Per reachability request; default 5 s. */
  probeTimeoutMs?: number;
}

export type SetupStatus = 'ok' | 'warning' | 'failed';

export interface SetupCheck {
  id: string;
  label: string;
  status: SetupStatus;
  detail: string;
  /** What to do about it; null when nothing needs doing. */
  fix: string | null;
}

const environmentNames: Record<ServiceTitanEnvironment, string> = {
  integration: 'Integration',
  production: 'Production',
};

const settingPrefix: Record<ServiceTitanEnvironment, string> = {
  integration: 'SERVICETITAN_INTEGRATION',
  production: 'SERVICETITAN_PRODUCTION',
};

const generateKey = `node -e "console.log('v1:' + require('crypto').randomBytes(32).toString('base64'))"`;

/** Connection errors in words a person can act on (undici puts the system error in `cause`). */
export function describeConnectionError(error: unknown, url: URL, timeoutMs: number): string {
  const where = url.host;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer from ${where} within ${timeoutMs / 1000} s (timed out)`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${url.hostname} could not be resolved (DNS lookup failed, ${code})`;
    case 'ECONNREFUSED':
      return `${where} refused the connection (nothing listens there, ECONNREFUSED)`;
    case 'ECONNRESET':
      return `${where} closed the connection before answering (ECONNRESET)`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `the connection to ${where} timed out (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no network route to ${where} (${code})`;
    default:
      if (code && /CERT|TLS|SSL/i.test(code)) return `the TLS certificate of ${where} was refused (${code})`;
      return `${where} could not be reached (${code ?? (typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : 'unknown error')})`;
  }
}

/** Any HTTP answer means the server is there; only a failure to get one is reported. */
async function reachable(
  raw: string,
  timeoutMs: number,
): Promise<{ ok: true; status: number } | { ok: false; reason: string }> {
  let url: URL;
  try {
    url = requireSecureBaseUrl(raw, 'The URL');
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => {});
    return { ok: true, status: res.status };
  } catch (error) {
    return { ok: false, reason: describeConnectionError(error, url, timeoutMs) };
  }
}

/** Connection strings in an error text lose their passwords. */
function withoutPasswords(text: string): string {
  return text.replace(/(\b[a-z][\w+.-]*:\/\/[^:/\s@]+):[^@\s]*@/gi, '$1:***@');
}

/**
 * The Setup page's live checks: the app key, each environment's auth and API URLs, the
 * encryption keys, Temporal and PostgreSQL. Every check runs at once; none reveals a secret.
 */
export function createSetupService(deps: {
  setup?: SetupOptions | undefined;
  readiness?: Readiness | undefined;
}) {
  const timeoutMs = deps.setup?.probeTimeoutMs ?? 5_000;

  function appKeyCheck(source: SetupOptions['appKey']): SetupCheck {
    const label = 'ServiceTitan app key';
    if (source === 'configured')
      return {
        id: 'app-key',
        label,
        status: 'ok',
        detail: 'SERVICETITAN_APP_KEY is set.',
        fix: null,
      };
    if (source === 'sandbox')
      return {
        id: 'app-key',
        label,
        status: 'warning',
        detail:
          'SERVICETITAN_APP_KEY is not set, so this embedded deployment talks to the ServiceTitan sandbox (a local simulator) with the sandbox’s own app key. No real ServiceTitan tenant can be connected.',
        fix: 'To sync real tenants, register the application in the ServiceTitan Developer Portal (steps above), set SERVICETITAN_APP_KEY to its app key and restart.',
      };
    return {
      id: 'app-key',
      label,
      status: 'failed',
      detail: 'SERVICETITAN_APP_KEY is not set: no connection test or sync can reach ServiceTitan.',
      fix: 'Register the application in the ServiceTitan Developer Portal (steps above), put its app key in SERVICETITAN_APP_KEY in the environment of the API and of the worker, and restart both.',
    };
  }

  async function urlCheck(
    environment: ServiceTitanEnvironment,
    kind: 'auth' | 'api',
    url: string,
    sandbox: boolean,
  ): Promise<SetupCheck> {
    const label = `${environmentNames[environment]} ${kind === 'auth' ? 'auth' : 'API'} URL`;
    const setting = `${settingPrefix[environment]}_${kind === 'auth' ? 'AUTH' : 'API'}_URL`;
    const result = await reachable(url, timeoutMs);
    if (result.ok)
      return {
        id: `${environment}-${kind}-url`,
        label,
        status: 'ok',
        detail: `${url} is reachable (it answered HTTP ${result.status}).`,
        fix: null,
      };
    return {
      id: `${environment}-${kind}-url`,
      label,
      status: 'failed',
      detail: `${url} is not reachable: ${result.reason.replace(/\.$/, '')}.`,
      fix: sandbox
        ? 'The embedded sandbox does not answer: restart npm start.'
        : `Check ${setting} (now ${url}) and that this server can reach it: DNS, firewall and outbound proxy rules.`,
    };
  }

  function encryptionCheck(encryption: SetupOptions['encryption']): SetupCheck {
    const label = 'Encryption keys';
    if (!encryption || encryption.versions.length === 0)
      return {
        id: 'encryption-keys',
        label,
        status: 'failed',
        detail:
          'ENCRYPTION_KEYS is not set: credentials cannot be saved, since their client secrets are encrypted at rest.',
        fix: `Set ENCRYPTION_KEYS to "v1:<base64 of 32 random bytes>" (generate one with ${generateKey}) for the API and the worker, keep it safe, and restart both.`,
      };
    const [current] = encryption.versions;
    if (encryption.source === 'local-file')
      return {
        id: 'encryption-keys',
        label,
        status: 'ok',
        detail:
          'ENCRYPTION_KEYS is not set: the embedded database’s secrets are encrypted with a key generated once in DATA_DIR/encryption-key. Fine for this machine; a deployment with its own DATABASE_URL must set ENCRYPTION_KEYS.',
        fix: null,
      };
    const n = encryption.versions.length;
    return {
      id: 'encryption-keys',
      label,
      status: 'ok',
      detail: `ENCRYPTION_KEYS holds ${n} key${n === 1 ? '' : 's'}; new secrets are encrypted with key "${current}".`,
      fix: null,
    };
  }

  async function dependencyCheck(
    id: 'postgres' | 'temporal',
    check: (() => Promise<void>) | undefined,
  ): Promise<SetupCheck> {
    const label = id === 'postgres' ? 'PostgreSQL' : 'Temporal';
    const fix =
      id === 'postgres'
        ? 'Check DATABASE_URL and that the PostgreSQL server runs and accepts connections from this server.'
        : 'Check TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE and that the Temporal server runs; syncs also need a worker (npm run worker).';
    if (!check)
      return { id, label, status: 'failed', detail: `${label} is not checked by this server.`, fix };
    const failure = await probe(check, 3_000);
    if (failure === undefined) return { id, label, status: 'ok', detail: `${label} answers.`, fix: null };
    return {
      id,
      label,
      status: 'failed',
      detail: `${label} does not answer: ${withoutPasswords(failure)}`,
      fix,
    };
  }

  return {
    async check() {
      const setup = deps.setup;
      if (!setup) throw new AppError('not_configured', 'The setup check is not configured on this server.');
      const sandbox = setup.appKey === 'sandbox';
      const environments = (['integration', 'production'] as const).map((environment) => ({
        environment,
        authUrl: setup.environments[environment].authUrl,
        apiUrl: setup.environments[environment].apiUrl,
      }));
      const checks = await Promise.all([
        appKeyCheck(setup.appKey),
        ...environments.flatMap((e) => [
          urlCheck(e.environment, 'auth', e.authUrl, sandbox),
          urlCheck(e.environment, 'api', e.apiUrl, sandbox),
        ]),
        encryptionCheck(setup.encryption),
        dependencyCheck('temporal', deps.readiness?.temporal),
        dependencyCheck('postgres', deps.readiness?.postgres),
      ]);
      return { checkedAt: new Date().toISOString(), appKey: setup.appKey, environments, checks };
    },
  };
}

export type SetupService = ReturnType<typeof createSetupService>;
