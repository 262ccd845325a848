/**
 * The container image and the Kubernetes / KServe manifests in deploy/ agree with the server they
 * run: every flag they pass exists in `vitopt serve --help`, ports, probe paths, the model path and the
 * Prometheus annotations agree with each other and with those flags, and — the real check — the exact
 * arguments of each manifest start a real `vitopt serve` whose probe and metrics paths answer, and
 * the Dockerfile's HEALTHCHECK command passes against it and fails once it is gone.
 */
import { spawnServe } from '../../src/serve/spawn.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../../src/util/paths.js';
import { parseYamlDocuments, type Yaml } from './yaml-subset.js';
import { tinyRepository } from '../serve/fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DEPLOY = path.join(PACKAGE_ROOT, 'deploy');

type Doc = any;

function yamlFiles(): string[] {
  return ['kserve', 'kubernetes'].flatMap((d) => readdirSync(path.join(DEPLOY, d)).filter((f) => f.endsWith('.yaml')).map((f) => path.join(DEPLOY, d, f)));
}

function load(rel: string): Doc {
  const docs = parseYamlDocuments(readFileSync(path.join(DEPLOY, rel), 'utf8'));
  assert.equal(docs.length, 1, rel);
  return docs[0];
}

const deployment = () => load('kubernetes/deployment.yaml');
const service = () => load('kubernetes/service.yaml');
const hpa = () => load('kubernetes/hpa.yaml');
const runtime = () => load('kserve/servingruntime.yaml');
const isvc = () => load('kserve/inferenceservice.yaml');

/** Dockerfile instructions (continuations joined, comments dropped), by stage. */
function dockerfile(): { instruction: string; args: string }[][] {
  const text = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages: { instruction: string; args: string }[][] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(t)!;
    if (m[1] === 'FROM') stages.push([]);
    stages[stages.length - 1]!.push({ instruction: m[1]!, args: m[2]!.replace(/\s+/g, ' ') });
  }
  return stages;
}

/** `--flag=value` or `--flag value` pairs of an argument list. */
function flags(args: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(0, eq), a.slice(eq + 1));
    else if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) out.set(a, args[++i]!);
    else out.set(a, true);
  }
  return out;
}

function serveHelpFlags(): Set<string> {
  const r = spawnSync(process.execPath, [MAIN, 'serve', '--help'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return new Set(r.stdout.match(/--[a-z][a-z-]*/g));
}

/** The vitopt command lines the deployment artifacts run: [where, argv after `vitopt`]. */
function commandLines(): [string, string[]][] {
  const cmd = dockerfile().at(-1)!.find((x) => x.instruction === 'CMD')!;
  const dep = deployment().spec.template.spec.containers[0];
  const rt = runtime().spec.containers[0];
  for (const c of [dep, rt]) assert.deepEqual(c.command, ['vitopt']);
  const docker = JSON.parse(cmd.args) as string[];
  assert.equal(docker[0], 'vitopt');
  return [['Dockerfile CMD', docker.slice(1)], ['Deployment', dep.args], ['ServingRuntime', rt.args]];
}

test('the YAML reader agrees with PyYAML on every manifest (where PyYAML is installed)', (t) => {
  const probe = spawnSync('python3', ['-c', 'import yaml'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 with PyYAML is not installed');
    return;
  }
  for (const f of yamlFiles()) {
    const r = spawnSync('python3', ['-c', 'import sys, yaml, json; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parseYamlDocuments(readFileSync(f, 'utf8')), JSON.parse(r.stdout) as Yaml[], f);
  }
  assert.throws(() => parseYamlDocuments('a: &x 1\nb: *x\n'), /unsupported YAML feature/);
  assert.throws(() => parseYamlDocuments('a: |\n  text\n'), /unsupported YAML feature/);
});

test('every flag the image and the manifests pass exists in `vitopt serve --help`', () => {
  const known = serveHelpFlags();
  for (const [where, argv] of commandLines()) {
    assert.equal(argv[0], 'serve', where);
    for (const f of flags(argv).keys()) assert.ok(known.has(f), `${where}: ${f} is not a flag of vitopt serve`);
    const fl = flags(argv);
    assert.equal(fl.get('--model-repository'), '/mnt/models', where);
    assert.equal(fl.get('--host'), '0.0.0.0', where);
    assert.equal(fl.get('--port'), '8080', where);
  }
});

test('Dockerfile: node:20-slim, npm ci, non-root, EXPOSE 8080, HEALTHCHECK on ready', () => {
  const stages = dockerfile();
  const final = stages.at(-1)!;
  for (const s of stages) assert.match(s[0]!.args, /^node:20-slim\b/);
  assert.ok(stages.some((s) => s.some((x) => x.instruction === 'RUN' && /\bnpm ci\b/.test(x.args))));
  const users = final.filter((x) => x.instruction === 'USER').map((x) => x.args);
  assert.ok(users.length > 0 && !['root', '0'].includes(users.at(-1)!.split(':')[0]!), `final USER ${users.at(-1)}`);
  assert.deepEqual(final.filter((x) => x.instruction === 'EXPOSE').map((x) => x.args), ['8080']);
  const hc = final.find((x) => x.instruction === 'HEALTHCHECK')!.args;
  assert.match(hc, /http:\/\/127\.0\.0\.1:8080\/v2\/health\/ready/);
  // Everything the build copies from the context exists there and is not excluded by the .dockerignore.
  const ignored = readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const copy of stages.flat().filter((x) => x.instruction === 'COPY' && !x.args.startsWith('--from'))) {
    for (const src of copy.args.split(' ').slice(0, -1)) {
      assert.ok(existsSync(path.join(PACKAGE_ROOT, src)), `COPY ${src}: not in the build context`);
      assert.ok(!ignored.includes(src), `COPY ${src}: excluded by Dockerfile.dockerignore`);
    }
  }
  assert.deepEqual(JSON.parse(final.find((x) => x.instruction === 'CMD')!.args),
    ['vitopt', 'serve', '--model-repository', '/mnt/models', '--host', '0.0.0.0', '--port', '8080']);
});

test('Kubernetes: ports, probes, model path, metrics annotations, Service and HPA agree', () => {
  const d = deployment(), s = service(), h = hpa();
  const pod = d.spec.template;
  const c = pod.spec.containers[0];
  const fl = flags(c.args);
  const port = Number(fl.get('--port'));
  const named = new Map<string, number>(c.ports.map((p: Doc) => [p.name, p.containerPort]));
  const resolve = (p: number | string) => (typeof p === 'number' ? p : named.get(p));
  assert.deepEqual([...named.values()], [port]);
  assert.equal(c.readinessProbe.httpGet.path, '/v2/health/ready');
  assert.equal(c.livenessProbe.httpGet.path, '/v2/health/live');
  for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) assert.equal(resolve(probe.httpGet.port), port);
  assert.equal(c.volumeMounts.find((v: Doc) => v.name === 'model-repository').mountPath, fl.get('--model-repository'));
  assert.ok(pod.spec.volumes.some((v: Doc) => v.name === 'model-repository'));
  const ann = pod.metadata.annotations;
  assert.equal(ann['prometheus.io/scrape'], 'true');
  assert.equal(Number(ann['prometheus.io/port']), port);
  assert.equal(ann['prometheus.io/path'], '/metrics');
  // Draining (SIGTERM) must finish before Kubernetes kills the pod.
  assert.ok(pod.spec.terminationGracePeriodSeconds * 1000 > Number(fl.get('--drain-timeout-ms')));
  // ORT's threads match the CPU the pod may use (its pools would otherwise follow the node's cores).
  assert.equal(Number(fl.get('--threads')), Number(c.resources.limits.cpu));
  assert.ok(c.resources.requests.cpu, 'the HPA computes CPU utilization against requests');
  assert.ok(pod.spec.securityContext.runAsNonRoot && pod.spec.securityContext.runAsUser !== 0);
  // Service → pods → port.
  for (const [k, v] of Object.entries(s.spec.selector)) assert.equal(pod.metadata.labels[k], v);
  assert.deepEqual(d.spec.selector.matchLabels, s.spec.selector);
  assert.equal(resolve(s.spec.ports[0].targetPort), port);
  // HPA → Deployment.
  assert.deepEqual([h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name, h.spec.scaleTargetRef.apiVersion], ['Deployment', d.metadata.name, d.apiVersion]);
  assert.ok(h.spec.minReplicas >= 1 && h.spec.minReplicas <= h.spec.maxReplicas);
});

test('KServe: runtime and InferenceService agree (protocol v2, 8080, /mnt/models, Prometheus annotations)', () => {
  const rt = runtime(), is = isvc();
  assert.equal(rt.apiVersion, 'serving.kserve.io/v1alpha1');
  assert.equal(rt.kind, 'ServingRuntime');
  const c = rt.spec.containers[0];
  assert.equal(c.name, 'kserve-container', 'KServe finds the model server container by this name');
  const fl = flags(c.args);
  assert.equal(c.ports[0].containerPort, 8080);
  assert.equal(Number(fl.get('--port')), 8080);
  assert.equal(fl.get('--model-repository'), '/mnt/models', 'where the storage-initializer puts storageUri');
  assert.equal(c.readinessProbe.httpGet.path, '/v2/health/ready');
  assert.equal(c.livenessProbe.httpGet.path, '/v2/health/live');
  for (const p of [c.readinessProbe, c.livenessProbe]) assert.equal(p.httpGet.port, 8080);
  for (const a of [rt.metadata.annotations, rt.spec.annotations]) {
    assert.equal(a['prometheus.kserve.io/port'], '8080');
    assert.equal(a['prometheus.kserve.io/path'], '/metrics');
  }
  assert.ok(rt.spec.protocolVersions.includes('v2'));
  assert.equal(is.apiVersion, 'serving.kserve.io/v1beta1');
  assert.equal(is.kind, 'InferenceService');
  const p = is.spec.predictor;
  assert.equal(p.model.runtime, rt.metadata.name);
  assert.equal(p.model.protocolVersion, 'v2');
  assert.ok(rt.spec.supportedModelFormats.some((f: Doc) => f.name === p.model.modelFormat.name && f.version === p.model.modelFormat.version));
  assert.match(p.model.storageUri, /^(gs|s3|pvc|https?):\/\//);
  // Knative admits at most containerConcurrency per pod: what the server can queue, so overflow waits upstream.
  assert.equal(p.containerConcurrency, Number(fl.get('--max-queue-size')));
  // The autoscaler's target is what one pod runs at once: a full batch on every instance.
  assert.equal(p.scaleTarget, Number(fl.get('--max-batch-size')) * Number(fl.get('--instances')));
});

/** Start `vitopt <argv>` (the manifest's own arguments, model path and port swapped for a test repository and a free port). */
async function startWith(argv: string[], repo: string): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const swapped = argv.map((a) => a.replace(/^--model-repository=\/mnt\/models$/, `--model-repository=${repo}`)
    .replace(/^--port=8080$/, '--port=0').replace(/^--host=0\.0\.0\.0$/, '--host=127.0.0.1').replace(/^--threads=\d+$/, '--threads=1'));
  if (swapped[0] !== 'serve') throw new Error(`a manifest runs '${swapped[0]}', not 'serve'`);
  const s = await spawnServe(swapped.slice(1));
  return { url: s.url, stop: () => { s.child.kill('SIGTERM'); return s.exited; } };
}

test('each manifest\'s arguments start a real server whose probe and metrics paths answer; HEALTHCHECK passes, then fails when it is gone', async () => {
  const repo = tinyRepository({ tiny: {} });
  const hc = dockerfile().at(-1)!.find((x) => x.instruction === 'HEALTHCHECK')!.args;
  const hcArgv = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
  assert.equal(hcArgv[0], 'node');
  const runHealthcheck = (url: string) => new Promise<number | null>((resolve) => {
    const c = spawn(process.execPath, hcArgv.slice(1).map((a) => a.replace('http://127.0.0.1:8080', url)), { stdio: 'ignore' });
    c.on('exit', (code) => resolve(code));
  });
  const d = deployment().spec.template.spec.containers[0];
  const rt = runtime().spec.containers[0];
  for (const [where, c] of [['Deployment', d], ['ServingRuntime', rt]] as const) {
    const s = await startWith(c.args, repo);
    try {
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        const r = await fetch(`${s.url}${probe.httpGet.path}`);
        assert.equal(r.status, 200, `${where} ${probe.httpGet.path}`);
      }
      const metricsPath = where === 'Deployment' ? deployment().spec.template.metadata.annotations['prometheus.io/path'] : runtime().spec.annotations['prometheus.kserve.io/path'];
      const m = await fetch(`${s.url}${metricsPath}`);
      assert.equal(m.status, 200);
      const metrics = await m.text();
      const fl = flags(c.args);
      assert.match(metrics, /^# TYPE nv_inference_request_success counter$/m);
      assert.match(metrics, new RegExp(`^vitopt_workers_healthy\\{model="tiny",version="1"\\} ${fl.get('--instances')}$`, 'm'));
      const config = await (await fetch(`${s.url}/v2/models/tiny/config`)).json() as Doc;
      assert.equal(config.max_batch_size, Number(fl.get('--max-batch-size')), `${where}: --max-batch-size reached the model`);
      assert.equal(config.dynamic_batching.default_queue_policy.max_queue_size, Number(fl.get('--max-queue-size')));
      assert.equal(config.instance_group[0].count, Number(fl.get('--instances')));
      assert.equal(await runHealthcheck(s.url), 0, `${where}: HEALTHCHECK against a ready server`);
    } finally {
      assert.equal(await s.stop(), 0, `${where}: SIGTERM drains and exits 0`);
    }
    assert.equal(await runHealthcheck(s.url), 1, `${where}: HEALTHCHECK once the server is gone`);
  }
});
