import { afterEach, describe, expect, it } from 'vitest';
import { AtlasSimulator, type DefaultFixtures } from '../../src/simulator';
import {
  api,
  digestHeader,
  exportsPath,
  oauthToken,
  parseChallenge,
  TEST_ACCOUNT,
  TEST_CREDENTIALS,
  TEST_KEY,
  VERSION_HEADER,
  type PageOf,
} from './helpers';

describe('authentication', () => {
  let sim: AtlasSimulator;
  let f: DefaultFixtures;

  const start = async (opts: { nonceTtlSeconds?: number; tokenTtlSeconds?: number } = {}) => {
    sim = await AtlasSimulator.start({ credentials: TEST_CREDENTIALS, ...opts });
    f = sim.seedDefault();
  };
  afterEach(() => sim.close());

  it('challenges a request without credentials with a digest 401', async () => {
    await start();
    const res = await api(sim, exportsPath(f.groupId, f.clusterName), { auth: 'none' });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 401, errorCode: 'UNEXPECTED_ERROR', reason: 'Unauthorized' });
    const header = res.headers.get('www-authenticate') ?? '';
    expect(header).toMatch(
      /^Digest realm="MMS Public API", domain="", nonce="[^"]+", algorithm=MD5, qop="auth", stale=false$/
    );
    expect(sim.requests.at(-1)).toMatchObject({ status: 401, auth: 'none', operation: 'listExportJobs' });
  });

  it('accepts a correct digest response and rejects a wrong password or user (stale=false)', async () => {
    await start();
    const path = exportsPath(f.groupId, f.clusterName);
    const okRes = await api<PageOf<unknown>>(sim, path);
    expect(okRes.status).toBe(200);
    expect(okRes.json.results).toEqual([]);
    expect(sim.requests.at(-1)).toMatchObject({ status: 200, auth: 'digest' });

    const wrongPassword = await api(sim, path, { auth: { digest: { user: TEST_KEY.publicKey, password: 'nope' } } });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.headers.get('www-authenticate')).toContain('stale=false');
    const wrongUser = await api(sim, path, { auth: { digest: { user: 'someone', password: TEST_KEY.privateKey } } });
    expect(wrongUser.status).toBe(401);
  });

  it('rejects a digest response computed for another URI', async () => {
    await start();
    const path = exportsPath(f.groupId, f.clusterName);
    const challenge = await fetch(sim.url + path, { headers: { Accept: VERSION_HEADER } });
    const params = parseChallenge(challenge.headers.get('www-authenticate') ?? '');
    const header = digestHeader(params, TEST_KEY.publicKey, TEST_KEY.privateKey, 'GET', `${path}?pageNum=1`);
    const res = await fetch(sim.url + path, { headers: { Accept: VERSION_HEADER, Authorization: header } });
    expect(res.status).toBe(401);
  });

  it('reuses a nonce with increasing nc, and answers stale=true once it expires', async () => {
    await start({ nonceTtlSeconds: 0.2 });
    const path = exportsPath(f.groupId, f.clusterName);
    const challenge = await fetch(sim.url + path, { headers: { Accept: VERSION_HEADER } });
    const params = parseChallenge(challenge.headers.get('www-authenticate') ?? '');
    const call = (nc: number) =>
      fetch(sim.url + path, {
        headers: {
          Accept: VERSION_HEADER,
          Authorization: digestHeader(params, TEST_KEY.publicKey, TEST_KEY.privateKey, 'GET', path, nc),
        },
      });
    expect((await call(1)).status).toBe(200);
    expect((await call(2)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const stale = await call(3);
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toContain('stale=true');
  });

  it('issues OAuth tokens for service accounts and accepts them as bearer tokens', async () => {
    await start();
    const token = await oauthToken(sim);
    expect(sim.requests.at(-1)).toMatchObject({ operation: 'oauthToken', status: 200, auth: 'basic' });
    expect(sim.requests.at(-1)?.body).toEqual({ grant_type: 'client_credentials' });
    const res = await api<PageOf<unknown>>(sim, exportsPath(f.groupId, f.clusterName), { auth: { bearer: token } });
    expect(res.status).toBe(200);
    expect(sim.requests.at(-1)).toMatchObject({ auth: 'bearer', status: 200 });

    const bad = await api(sim, exportsPath(f.groupId, f.clusterName), { auth: { bearer: 'forged' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('returns the token response shape and rejects bad client credentials', async () => {
    await start({ tokenTtlSeconds: 120 });
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const post = (authorization: string, body = 'grant_type=client_credentials') =>
      fetch(`${sim.url}/api/oauth/token`, {
        method: 'POST',
        headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
    const good = await post(basic(TEST_ACCOUNT.clientId, TEST_ACCOUNT.clientSecret));
    expect(good.status).toBe(200);
    const granted = (await good.json()) as Record<string, unknown>;
    expect(Object.keys(granted).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(granted).toMatchObject({ expires_in: 120, token_type: 'Bearer' });
    expect(typeof granted.access_token).toBe('string');
    expect(good.headers.get('cache-control')).toBe('no-store');

    const bad = await post(basic(TEST_ACCOUNT.clientId, 'wrong'));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'invalid_client' });

    const grant = await post(basic(TEST_ACCOUNT.clientId, TEST_ACCOUNT.clientSecret), 'grant_type=password');
    expect(grant.status).toBe(400);
    expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('rejects an expired bearer token with 401', async () => {
    await start({ tokenTtlSeconds: 0.2 });
    const token = await oauthToken(sim);
    const path = exportsPath(f.groupId, f.clusterName);
    expect((await api(sim, path, { auth: { bearer: token } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const expired = await api(sim, path, { auth: { bearer: token } });
    expect(expired.status).toBe(401);
    expect(expired.json.errorCode).toBe('USER_UNAUTHORIZED');
  });

  it('answers Basic auth on the API with the digest challenge', async () => {
    await start();
    const header = `Basic ${Buffer.from(`${TEST_KEY.publicKey}:${TEST_KEY.privateKey}`).toString('base64')}`;
    const res = await api(sim, exportsPath(f.groupId, f.clusterName), { auth: { header } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Digest /);
    expect(sim.requests.at(-1)?.auth).toBe('basic');
  });
});
