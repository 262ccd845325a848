/**
 * The package as a user gets it: `npm pack`, installed into a fresh project, imported by name
 * (`import { predict } from 'vitopt'`, with its type declarations) and run on a Fashion-MNIST image.
 *
 * Installing: the tarball is unpacked into the project's node_modules/vitopt exactly as npm would
 * place it, and only the runtime `dependencies` its package.json declares are linked in from this
 * checkout's node_modules. `npm install --offline <tgz>` cannot be used: npm's offline cache holds the
 * tarballs `npm ci` fetched but not the registry metadata a fresh resolution needs (ENOTCACHED), and
 * an online install would download ~500 MB. Linking only the declared dependencies keeps the check
 * that matters: code that imports a package the manifest does not declare fails to resolve here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { packagePath } from '../../src/util/paths.js';
import { subsetImages, writeImage } from '../cli/fixtures.js';

const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('npm pack -> install into a fresh project -> import { predict } from "vitopt" classifies a Fashion-MNIST image', { skip: npm.status !== 0 && 'npm is not available' }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vitopt-pack-'));
  // --ignore-scripts: `prepare` would rebuild dist/, which this test runs from already.
  const packed = JSON.parse(sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], packagePath())) as
    { filename: string; files: { path: string }[] }[];
  const files = packed[0]!.files.map((f) => f.path);
  for (const f of ['package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'models/fashion-vit.npz',
    'models/fashion-vit.json', 'data/fashion-mnist-subset/t10k-images-idx3-ubyte.gz']) assert.ok(files.includes(f), `the package ships ${f}`);
  assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('dist/test/') || /^src\/.*\.ts$/.test(f)), 'no tests or TypeScript sources');

  const project = path.join(dir, 'project');
  const installed = path.join(project, 'node_modules', 'vitopt');
  await fs.mkdir(installed, { recursive: true });
  sh('tar', ['-xzf', path.join(dir, packed[0]!.filename), '-C', installed, '--strip-components=1'], dir);
  const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  // Declared runtime dependencies, plus what a TypeScript user has (typescript, @types/node).
  for (const dep of [...Object.keys(manifest.dependencies), 'typescript', '@types/node']) {
    const link = path.join(project, 'node_modules', dep);
    await fs.mkdir(path.dirname(link), { recursive: true });
    await fs.symlink(packagePath('node_modules', dep), link, 'dir');
  }
  await fs.writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
  const [img] = await subsetImages(1);
  await writeImage(img!, path.join(project, 'item.png'), 'png');

  // A TypeScript user: the types resolve through package.json "exports" and a wrong call does not compile.
  await fs.writeFile(path.join(project, 'use.ts'), [
    "import { predict, REFERENCE_MODELS, type PredictResult } from 'vitopt';",
    "const r: PredictResult = await predict('fashion-vit', ['item.png'], { topK: 3, engine: { threads: 1 } });",
    "const checkpoint: string = REFERENCE_MODELS[0]!.checkpoint;",
    'console.log(JSON.stringify({ top: r.top[0], ids: r.ids, checkpoint }));',
  ].join('\n'));
  const tsc = ['node_modules/typescript/bin/tsc', '--strict', '--noUncheckedIndexedAccess', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--skipLibCheck', '--types', 'node'];
  sh(process.execPath, [...tsc, 'use.ts'], project);
  await fs.writeFile(path.join(project, 'wrong.ts'), "import { predict } from 'vitopt';\nawait predict('fashion-vit', 'item.png');\n");
  const wrong = spawnSync(process.execPath, [...tsc, '--noEmit', 'wrong.ts'], { cwd: project, encoding: 'utf8' });
  assert.notEqual(wrong.status, 0, 'a string where an array of inputs belongs is a type error');
  assert.match(wrong.stdout, /wrong\.ts\(2,/);

  const out = JSON.parse(sh(process.execPath, ['use.js'], project)) as { top: { label: string; probability: number }[]; ids: string[]; checkpoint: string };
  assert.equal(out.top.length, 3);
  assert.equal(out.top[0]!.label, img!.className, 'the reference model classifies the test image correctly');
  assert.ok(out.top[0]!.probability > 0.5);
  assert.equal(path.relative(installed, out.checkpoint), path.join('models', 'fashion-vit.npz'), 'the model comes from the installed package');

  // The installed CLI, from the user's project.
  const cli = path.join(installed, 'dist', 'src', 'cli', 'main.js');
  assert.equal(sh(process.execPath, [cli, '--version'], project).trim(), manifest && JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')).version);
  assert.match(sh(process.execPath, [cli, 'predict', 'fashion-vit', 'item.png', '--top-k', '1'], project), new RegExp(`item\\.png: ${img!.className.replace('/', '\\/')} `));
  await fs.rm(dir, { recursive: true, force: true });
});
