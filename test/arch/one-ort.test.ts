/**
 * One ORT path: every session vitopt creates goes through the engine layer (src/engines/), which
 * alone knows how to load a model of any size (model-source.ts: above 2 GB through external data),
 * which runtime serves which engine, and how to turn a load failure into a one-line FileError. Code
 * elsewhere gets `EngineSession`s from create.ts, or raw multi-output sessions from model-source.ts's
 * `createSession` with the types of engines/runtime.ts, never the runtime packages themselves.
 *
 * Exempt: src/engines/ (the layer) and src/web/app/ (runs in the browser, bundled apart). Tests are
 * not checked: some use the runtime directly on purpose, as a reference independent of the layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { packagePath } from '../../src/util/paths.js';
import { sources } from './sources.js';

/** Static, type-only, side-effect and dynamic imports (and requires) of either runtime package. */
const RUNTIME_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]onnxruntime-(?:node|web|common)(?:\/[^'"]*)?['"]/;
const SESSION_CREATE = /\bInferenceSession\s*\.\s*create\b/;

/** Offending lines of a file, as 'file:line: text'. */
async function offences(file: string, patterns: RegExp[]): Promise<string[]> {
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  const rel = path.relative(packagePath(), file);
  return lines.flatMap((l, i) => patterns.some((p) => p.test(l)) ? [`${rel}:${i + 1}: ${l.trim()}`] : []);
}

const exempt = (file: string) => {
  const rel = path.relative(packagePath(), file).split(path.sep).join('/');
  return rel.startsWith('src/engines/') || rel.startsWith('src/web/app/');
};

test('one ORT path: outside src/engines/ (and the browser app) nothing imports a runtime package or creates a session itself', async () => {
  const files = [...await sources(packagePath('src')), ...await sources(packagePath('bench'))];
  const bad: string[] = [];
  for (const f of files.filter((f) => !exempt(f))) bad.push(...await offences(f, [RUNTIME_IMPORT, SESSION_CREATE]));
  assert.deepEqual(bad, [], 'go through src/engines/ (create.ts: createSession/openModel; model-source.ts: createSession for multi-output graphs; runtime.ts: Tensor and session types)');
  // The check itself sees imports and creates: the layer has both.
  assert.ok((await offences(packagePath('src', 'engines', 'ort-node.ts'), [RUNTIME_IMPORT])).length > 0);
  assert.ok((await offences(packagePath('src', 'engines', 'model-source.ts'), [SESSION_CREATE])).length > 0);
});

test('one ORT path: the second wrapper (OrtModel) is gone', async () => {
  const self = path.resolve(packagePath('test', 'arch'), 'one-ort.test.ts');
  const files = [...await sources(packagePath('src')), ...await sources(packagePath('bench')), ...await sources(packagePath('test'))];
  const bad: string[] = [];
  for (const f of files.filter((f) => f !== self)) bad.push(...await offences(f, [/\bOrtModel\b/]));
  assert.deepEqual(bad, [], 'EngineSession (src/engines/create.ts: createSession, openModel) replaced it');
  const engines = await import('../../src/engines/index.js') as Record<string, unknown>;
  assert.equal(engines['OrtModel'], undefined);
  assert.equal(typeof engines['openModel'], 'function');
});
