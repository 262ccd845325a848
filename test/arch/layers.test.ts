/**
 * The layering rule of the design: compress/ is pure model -> model transforms; whatever measures and
 * decides (evaluation, benchmarks, the accuracy guard, the tuner) sits above it. Checked on the
 * source's import statements, so a violation fails here rather than in a review.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { packagePath } from '../../src/util/paths.js';
import { sources } from './sources.js';

/** Every module a file imports (static and dynamic), as paths relative to src/. */
async function importsOf(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => path.relative(packagePath('src'), path.resolve(path.dirname(file), s)));
}

test('layers: compress/ imports neither eval/, bench/ nor tune/ (nor the CLI)', async () => {
  const bad: string[] = [];
  for (const f of await sources(packagePath('src', 'compress'))) {
    for (const dep of await importsOf(f)) {
      if (/^(eval|bench|tune|cli|serve|web)\//.test(dep)) bad.push(`${path.relative(packagePath(), f)} -> ${dep}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('layers: nothing below the CLI imports it, and nothing below tune/ imports tune/', async () => {
  const bad: string[] = [];
  for (const f of await sources(packagePath('src'))) {
    const own = path.relative(packagePath('src'), f).split(path.sep)[0]!;
    for (const dep of await importsOf(f)) {
      const top = dep.split(path.sep)[0]!;
      if (top === 'cli' && own !== 'cli') bad.push(`${own}: ${path.relative(packagePath(), f)} -> ${dep}`);
      if (top === 'tune' && !['tune', 'cli'].includes(own)) bad.push(`${own}: ${path.relative(packagePath(), f)} -> ${dep}`);
    }
  }
  assert.deepEqual(bad, []);
});
