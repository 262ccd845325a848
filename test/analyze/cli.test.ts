import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../../src/analyze/report.js';
import { zooConfig } from '../../src/models/zoo.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
// An empty cache directory: a hardware profile cached by `vitopt hw` on this machine must not change the report.
const CACHE = mkdtempSync(path.join(tmpdir(), 'vitopt-analyze-cache-'));
const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'analyze', ...args],
  { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: CACHE } });

test('unknown name: exit 2, one line on stderr', () => {
  const r = run('NoSuch');
  assert.equal(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /NoSuch/);
});

test('resolution below the patch: exit 2, one line', () => {
  const r = run('ViT-B_16', '--resolution', '8');
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /--resolution/);
});

test('--json is the library report', () => {
  const r = run('ViT-B_32', '--batch', '4', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const lib = JSON.parse(JSON.stringify(analyze(zooConfig('ViT-B_32'), { batch: 4 })));
  assert.deepEqual(j, lib);
  assert.equal(j.macs.total, 4_409_186_304);
  assert.equal(j.activations.batch.batch, 4);
});

test('Mixer at another resolution: the architecture, with a note about new token-mixing weights', () => {
  const r = run('Mixer-B_16', '--resolution', '384', '--classes', '10', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.tokens, 576);
  assert.equal(j.config.classes, 10);
  assert.ok(j.notes.some((n: string) => /new token-mixing weights/.test(n)));
});

test('text output has the tables', () => {
  const r = run('ViT-B_16', '--fp32-gflops', '600');
  assert.equal(r.status, 0, r.stderr);
  for (const s of ['## Parameters', '## MACs per image', '## Weights', '## Activations', '## Scaling', '## Roofline', 'quadratic', '600 GFLOP/s']) {
    assert.ok(r.stdout.includes(s), s);
  }
});
