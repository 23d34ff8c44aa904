import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { renderEmail } from '../../../src/notifications/email.js';
import { checkWebhookUrl, classifyAddress } from '../../../src/notifications/url-policy.js';
import { newWebhookSecret, signWebhook } from '../../../src/notifications/webhook-sender.js';

describe('webhook signatures', () => {
  it('when a message is signed, then standardwebhooks computes the same signature and verifies it', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({
      type: 'sync.failed',
      timestamp: '2026-11-30T10:00:00.000Z',
      data: { a: 1 },
    });
    const at = new Date();
    const seconds = Math.floor(at.getTime() / 1000);
    const ours = signWebhook(secret, 'msg_1', seconds, body);
    expect(ours).toBe(new Webhook(secret).sign('msg_1', new Date(seconds * 1000), body));
    expect(() =>
      new Webhook(secret).verify(body, {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(seconds),
        'webhook-signature': ours,
      }),
    ).not.toThrow();
    expect(() =>
      new Webhook(secret).verify(`${body} `, {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(seconds),
        'webhook-signature': ours,
      }),
    ).toThrow();
  });
});

describe('the SSRF rule', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.20.1.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'private'],
    ['100.64.0.1', 'private'],
    ['0.0.0.0', 'private'],
    ['fd00::1', 'private'],
    ['fe80::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['93.184.215.14', 'public'],
    ['2606:4700::1111', 'public'],
    ['172.32.0.1', 'public'],
  ])('when the address is %s, then it is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('when private networks are allowed, then http and private addresses pass; otherwise https to a public address only', async () => {
    await expect(
      checkWebhookUrl('http://10.0.0.1/x', { allowPrivateNetworks: true }),
    ).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookUrl('http://10.0.0.1/x', { allowPrivateNetworks: false })).rejects.toThrow(
      /private/,
    );
    await expect(checkWebhookUrl('http://93.184.215.14/x', { allowPrivateNetworks: false })).rejects.toThrow(
      /https/,
    );
    await expect(
      checkWebhookUrl('https://93.184.215.14/x', { allowPrivateNetworks: false }),
    ).resolves.toBeInstanceOf(URL);
    await expect(
      checkWebhookUrl('http://127.0.0.1:8080/x', { allowPrivateNetworks: false, allowLoopback: true }),
    ).resolves.toBeInstanceOf(URL);
    await expect(
      checkWebhookUrl('https://user:pw@93.184.215.14/x', { allowPrivateNetworks: false }),
    ).rejects.toThrow(/user name/);
  });
});

describe('notification settings and email', () => {
  it('when nothing is set, then email gets failures and alerts and the private-network rule is on', () => {
    const c = loadConfig({});
    expect(c.notifications.allowPrivateNetworks).toBe(false);
    expect(c.notifications.emailEvents).toContain('sync.failed');
    expect(c.notifications.emailEvents).not.toContain('sync.succeeded');
    expect(c.notifications.downstreamChannel).toBe('stsync_company_data');
  });

  it('when settings are invalid, then the error names them', () => {
    expect(() => loadConfig({ NOTIFY_EMAIL_TO: 'a@b.test, nope', SMTP_URL: 'http://x' })).toThrow(
      /NOTIFY_EMAIL_TO[\s\S]*SMTP_URL|SMTP_URL[\s\S]*NOTIFY_EMAIL_TO/,
    );
  });

  it('when an email is rendered, then it names the event, company and link and nothing else of the payload', () => {
    const { subject, text } = renderEmail('credential.status_changed', {
      companyId: 3,
      companyName: 'Acme',
      environment: 'production',
      tenantId: '42',
      message: 'ServiceTitan refused the credentials: rotate the secret.',
      link: 'https://console.test/credentials/9',
      other: 'not-printed',
    });
    expect(subject).toBe('[servicetitan-sync] Connection status changed: Acme, production, tenant 42');
    expect(text).toContain('https://console.test/credentials/9');
    expect(text).toContain('rotate the secret');
    expect(text).not.toContain('not-printed');
  });
});
