/**
 * Admin endpoints and the repository: disabled (403) without a token, 401 with a wrong one; index,
 * unload (model 503/404, ready reflects), load again; names that would escape the repository are
 * refused; the highest version folder is served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { startServer } from '../../src/serve/server.js';
import { insideRepository, checkModelName } from '../../src/serve/repository.js';
import { tinyRepository } from './fixtures.js';

const admin = (url: string, p: string, token?: string, body?: unknown) => fetch(url + p, {
  method: 'POST',
  headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
  body: body ? JSON.stringify(body) : undefined,
});

test('without a token the admin endpoints are disabled (403)', async () => {
  const s = await startServer({ modelRepository: tinyRepository(), port: 0, threads: 1, maxBatchSize: 1 });
  try {
    for (const p of ['/v2/repository/index', '/v2/repository/models/tiny/unload', '/v2/repository/models/tiny/load', '/v2/debug/models/tiny/instances/0/kill']) {
      const r = await admin(s.url, p, 'anything');
      assert.equal(r.status, 403, p);
      assert.match((await r.json() as { error: string }).error, /--admin-token/);
    }
    assert.equal((await fetch(`${s.url}/v2/models/tiny/ready`)).status, 200); // nothing happened
  } finally {
    await s.close();
  }
});

test('with a token: 401 without or with a wrong one; index, unload, load; traversal refused', async () => {
  const repo = tinyRepository({ tiny: {}, other: { version: 2 } });
  // A higher version of tiny appears: it is the one served.
  mkdirSync(path.join(repo, 'tiny', '7'));
  copyFileSync(path.join(repo, 'tiny', '1', 'model.onnx'), path.join(repo, 'tiny', '7', 'model.onnx'));
  const s = await startServer({ modelRepository: repo, port: 0, threads: 1, maxBatchSize: 1, adminToken: 'tok-123' });
  try {
    const noAuth = await admin(s.url, '/v2/repository/index');
    assert.equal(noAuth.status, 401);
    assert.match(noAuth.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.equal((await admin(s.url, '/v2/repository/index', 'tok-12')).status, 401);
    const idx = await admin(s.url, '/v2/repository/index', 'tok-123');
    assert.equal(idx.status, 200);
    assert.deepEqual(await idx.json(), [
      { name: 'other', version: '2', state: 'READY', reason: '' },
      { name: 'tiny', version: '7', state: 'READY', reason: '' },
    ]);
    const un = await admin(s.url, '/v2/repository/models/tiny/unload', 'tok-123', {});
    assert.equal(un.status, 200);
    assert.deepEqual(await un.json(), { name: 'tiny', unload: true });
    assert.equal((await fetch(`${s.url}/v2/models/tiny/ready`)).status, 404);
    assert.equal((await fetch(`${s.url}/v2/models/other/ready`)).status, 200);
    assert.equal((await fetch(`${s.url}/v2/health/ready`)).status, 200); // strict readiness over loaded models
    const idx2 = await (await admin(s.url, '/v2/repository/index', 'tok-123', { ready: false })).json();
    assert.deepEqual(idx2, [{ name: 'other', version: '2', state: 'READY', reason: '' }, { name: 'tiny', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    assert.deepEqual(await (await admin(s.url, '/v2/repository/index', 'tok-123', { ready: true })).json(), [{ name: 'other', version: '2', state: 'READY', reason: '' }]);
    const load = await admin(s.url, '/v2/repository/models/tiny/load', 'tok-123');
    assert.equal(load.status, 200);
    assert.deepEqual(await load.json(), { name: 'tiny', load: true });
    assert.deepEqual(await (await fetch(`${s.url}/v2/models/tiny/ready`)).json(), { name: 'tiny', ready: true });
    for (const bad of ['..%2F..%2Fetc', '.hidden', 'a%2Fb', '%2Fetc', 'a..b']) {
      const r = await admin(s.url, `/v2/repository/models/${bad}/load`, 'tok-123');
      assert.equal(r.status, 400, bad);
      assert.match((await r.json() as { error: string }).error, /not allowed|outside/);
    }
    const missing = await admin(s.url, '/v2/repository/models/missing/load', 'tok-123');
    assert.ok(missing.status === 400 || missing.status === 404);
  } finally {
    await s.close();
  }
});

test('repository name checks', () => {
  for (const bad of ['..', '../x', 'a/b', '/abs', 'a\\b', '.x', '', 'x'.repeat(200)]) assert.throws(() => checkModelName(bad), bad);
  assert.equal(checkModelName('vit-b_32.int8'), 'vit-b_32.int8');
  assert.equal(insideRepository('/srv/models', 'fashion-vit'), path.resolve('/srv/models/fashion-vit'));
  assert.throws(() => insideRepository('/srv/models', '..'));
});
