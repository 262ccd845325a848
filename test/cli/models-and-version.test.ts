/** `vitopt models` lists the reference models with their recorded accuracy; `vitopt --version` is the package's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadCheckpoint } from '../../src/models/checkpoint.js';
import { countParams } from '../../src/analyze/params.js';
import { packagePath } from '../../src/util/paths.js';
import { runCli } from './fixtures.js';

test('models: the reference models first, with their accuracy; parameter counts match the shipped checkpoints', async () => {
  const r = runCli(['models', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { kind: string; name: string; params: number; accuracy?: { dataset: string; images: number; top1: number }[] }[];
  const ref = rows.filter((x) => x.kind === 'reference');
  assert.deepEqual(ref.map((x) => x.name), ['fashion-vit', 'fashion-mixer']);
  for (const m of ref) {
    // Independent of the training record: count the parameters of the checkpoint as loaded.
    assert.equal(m.params, countParams((await loadCheckpoint(m.name)).config), m.name);
    const card = JSON.parse(readFileSync(packagePath('models', `${m.name}.json`), 'utf8'));
    assert.deepEqual(m.accuracy!.map((a) => [a.dataset, a.images, a.top1]),
      [['fashion-mnist:test', 10000, card.test.top1], ['fashion-mnist-subset', 2000, card.subset.top1]]);
  }
  assert.ok(rows.some((x) => x.kind === 'zoo' && x.name === 'ViT-B_16'));
  const text = runCli(['models']);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /fashion-vit\s+vit\s+459,466\s+90\.54%\s+91\.25%/);
  assert.match(text.stdout, /fashion-mixer\s+mixer\s+629,226\s+89\.65%\s+90\.50%/);
});

test('--version and -V print the version in package.json', () => {
  const version = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')).version as string;
  for (const flag of ['--version', '-V']) {
    const r = runCli([flag]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), version);
  }
});
