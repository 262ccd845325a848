/**
 * The tuner's run store: one SQLite file (better-sqlite3), MLflow-shaped. An experiment is one tune
 * job (its id: a hash of the tune's inputs, given by the caller); a run is one candidate (its id:
 * content-addressed, see candidateId), with typed params, REAL metrics, string tags and optionally a
 * model artifact stored once by content hash in <dir of the db>/artifacts/<sha256>.onnx.
 *
 * Schema (version STORE_SCHEMA_VERSION, kept in PRAGMA user_version and in meta.schema_version;
 * PRAGMA application_id = APPLICATION_ID marks the file as a vitopt run store; STRICT tables):
 *   meta(key, value)                                      app = 'vitopt-runs', schema_version
 *   experiments(id, name, created_at, ended_at, status, params JSON, tags JSON, summary JSON)
 *   runs(id, experiment_id, label, stage, status, reason, artifact_sha256, artifact_bytes, started_at, ended_at)
 *   experiment_runs(experiment_id, run_id, seq)           the join table
 *   params(run_id, key, ord, type, value)                 type: 'string' | 'number' | 'boolean' (0/1)
 *   metrics(run_id, key, ord, value REAL)                 NULL = NaN
 *   tags(run_id, key, ord, value TEXT)
 *
 * Runs and experiments are linked through the join table experiment_runs: a candidate id is shared
 * by every experiment that dedups to it (a second tune on the same parent, stage settings, runtime
 * and hardware reuses the first one's measurement). runs.experiment_id is the experiment that first
 * recorded the run (its origin: StoredRun.experimentId); saving the run again from another
 * experiment, or linkRun, adds a link without changing the origin. runsOf(e) lists every linked run.
 *
 * Durability: WAL journal with synchronous = NORMAL. In WAL mode a commit is atomic and durable
 * against a killed process (Ctrl-C, SIGKILL, out of memory: the WAL is in the OS page cache); only an
 * OS crash or power loss can lose the last few commits, and never corrupts the file. A lost run is
 * re-measured on the next resume, so the fsync per commit of FULL is not worth its cost. Every write
 * (a run with its params, metrics and tags; an experiment's state) is one transaction, so a process
 * killed between statements leaves the store as it was before or after a whole write.
 *
 * Opening validates before writing anything: a file that is not SQLite, a corrupt database, another
 * schema version or an SQLite file of something else throws UserError with one line naming the file,
 * and the file is left as it was.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.js';

export const STORE_SCHEMA_VERSION = 1;
export const DEFAULT_STORE = '.vitopt/runs.db';
/** PRAGMA application_id of a vitopt run store: 'VTOR'. */
export const APPLICATION_ID = 0x56544f52;
const APP_NAME = 'vitopt-runs';

export type ParamValue = string | number | boolean;
export type RunStatus = 'running' | 'done' | 'failed';
export type ExperimentStatus = 'running' | 'done' | 'failed' | 'interrupted';
const RUN_STATUSES: readonly RunStatus[] = ['running', 'done', 'failed'];
const EXPERIMENT_STATUSES: readonly ExperimentStatus[] = ['running', 'done', 'failed', 'interrupted'];

export interface StoredRun {
  /** Content-addressed candidate id (see candidateId). */
  id: string;
  /** The experiment that first recorded the run (it may be linked to others: experimentsOf). */
  experimentId: string;
  label: string;
  /** 'baseline' | 'artifact' | 'accuracy' | 'speed' | 'candidate' ... free text. */
  stage: string;
  status: RunStatus;
  /** Why it failed. */
  reason?: string | null;
  params: Record<string, ParamValue>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  /** The model file, stored content-addressed (putArtifact). */
  artifact?: { sha256: string; bytes: number } | null;
  /** ISO dates. */
  startedAt: string;
  endedAt?: string | null;
}

export interface StoredExperiment {
  id: string;
  name: string;
  createdAt: string;
  /** Set by finishExperiment (ISO); null while running. */
  endedAt?: string | null;
  status: ExperimentStatus;
  params: Record<string, ParamValue>;
  tags: Record<string, string>;
  /** Whatever the tuner stored with finishExperiment. */
  summary?: unknown | null;
}

export interface OpenOptions {
  /** Create the file and the schema when missing (default true). False: a missing file or an empty database is a UserError. */
  create?: boolean;
}

// ---------------------------------------------------------------- ids

/** JSON with object keys sorted at every level (undefined members dropped, non-finite numbers null, as JSON.stringify). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
    if (typeof v === 'bigint') return v.toString();
    const s = JSON.stringify(v);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined || typeof x === 'function' ? null : x)).join(',')}]`;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((v as { toJSON(): unknown }).toJSON());
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined && typeof o[k] !== 'function').sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** sha256 of the canonical JSON of the parts (keys sorted recursively), hex, first 16 characters. */
export function candidateId(parts: { parent: string; stage: string; settings: unknown; runtime: string; hardware: string }): string {
  const { parent, stage, settings, runtime, hardware } = parts;
  return createHash('sha256').update(canonicalJson({ parent, stage, settings, runtime, hardware })).digest('hex').slice(0, 16);
}

/** The SIMD features speed figures depend on (x86 flags, arm64 Features of /proc/cpuinfo). */
const SIMD_FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
  'avx_vnni', 'amx_int8', 'amx_bf16', 'asimd', 'asimddp', 'asimdhp', 'i8mm', 'bf16', 'sve', 'sve2'];

/** The CPU features found in /proc/cpuinfo text (its first flags/Features line), in SIMD_FLAGS order. */
export function simdFlags(cpuinfo: string | null): string[] {
  const line = cpuinfo?.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  if (!line) return [];
  const have = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  return SIMD_FLAGS.filter((f) => have.has(f));
}

/**
 * This machine, as it affects speed: platform, CPU model, logical CPUs, SIMD flags and total memory
 * rounded to GiB. Stable across runs on one machine (nothing measured, nothing that changes with load).
 */
export function hardwareFingerprint(): string {
  let info: string | null = null;
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    info = null;
  }
  const list = cpus();
  const model = (list[0]?.model ?? '').trim().replace(/\s+/g, ' ') || 'unknown cpu';
  const flags = simdFlags(info);
  return [`${process.platform}-${process.arch}`, model, `${list.length} cpus`, flags.length ? flags.join(',') : 'no simd flags',
    `${Math.round(totalmem() / 2 ** 30)} GiB`].join(' · ');
}

// ---------------------------------------------------------------- schema

const SCHEMA = `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE experiments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
  params TEXT NOT NULL,
  tags TEXT NOT NULL,
  summary TEXT
) STRICT;
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  experiment_id TEXT NOT NULL REFERENCES experiments(id),
  label TEXT NOT NULL,
  stage TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  reason TEXT,
  artifact_sha256 TEXT,
  artifact_bytes INTEGER,
  started_at TEXT NOT NULL,
  ended_at TEXT
) STRICT;
CREATE TABLE experiment_runs (
  experiment_id TEXT NOT NULL REFERENCES experiments(id),
  run_id TEXT NOT NULL REFERENCES runs(id),
  seq INTEGER NOT NULL,
  PRIMARY KEY (experiment_id, run_id)
) STRICT;
CREATE INDEX experiment_runs_by_run ON experiment_runs(run_id);
CREATE TABLE params (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  ord INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('string', 'number', 'boolean')),
  value ANY,
  PRIMARY KEY (run_id, key)
) STRICT, WITHOUT ROWID;
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  ord INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, key)
) STRICT, WITHOUT ROWID;
CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  ord INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) STRICT, WITHOUT ROWID;
`;
const TABLES = ['experiment_runs', 'experiments', 'meta', 'metrics', 'params', 'runs', 'tags'];

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** The first bytes of a file (fewer if it is shorter). */
function head(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

interface ExperimentRow { id: string; name: string; created_at: string; ended_at: string | null; status: string; params: string; tags: string; summary: string | null }
interface RunRow {
  id: string; experiment_id: string; label: string; stage: string; status: string; reason: string | null;
  artifact_sha256: string | null; artifact_bytes: number | null; started_at: string; ended_at: string | null;
}

function checkRecord<T>(what: string, o: Record<string, unknown>, ok: (v: unknown) => v is T): Record<string, T> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${what}: expected an object`);
  for (const [k, v] of Object.entries(o)) if (!ok(v)) throw new TypeError(`${what}.${k}: unsupported value ${String(v)} (${typeof v})`);
  return o as Record<string, T>;
}
const isParam = (v: unknown): v is ParamValue => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const isNumber = (v: unknown): v is number => typeof v === 'number';
const isString = (v: unknown): v is string => typeof v === 'string';

export class RunStore {
  private constructor(readonly file: string, private readonly db: Database.Database) {}

  /**
   * Open (by default create) a run store. Creates the parent directory and the schema. Anything that
   * is not a run store of this schema version throws UserError (one line, naming the file), and the
   * file is not modified.
   */
  static open(file: string, options: OpenOptions = {}): RunStore {
    const create = options.create ?? true;
    const fail = (problem: string): never => {
      throw new UserError(`${file}: ${problem}`);
    };
    let existed = false;
    try {
      const st = statSync(file);
      existed = true;
      if (st.isDirectory()) fail('is a directory, not a run store');
      if (!st.isFile()) fail('is not a regular file, not a run store');
      if (st.size > 0) {
        const h = head(file, SQLITE_MAGIC.length);
        if (h.length < SQLITE_MAGIC.length || !h.equals(SQLITE_MAGIC)) fail('not a vitopt run store (not an SQLite database)');
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') fail(`cannot read the run store (${code ?? (e as Error).message})`);
    }
    if (!existed && !create) fail('no run store here (nothing tuned yet, or give --store FILE)');
    if (!existed) {
      try {
        mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      } catch (e) {
        fail(`cannot create the run store's directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }

    let db: Database.Database | undefined;
    try {
      db = new Database(file, { fileMustExist: !create, timeout: 10_000 });
      // Validate with reads only: nothing is written before the file is known to be ours.
      const state = RunStore.inspect(db, fail);
      if (state === 'empty') {
        if (!create) fail('not a vitopt run store (an empty database)');
        db.pragma('journal_mode = WAL');
        db.exec('BEGIN IMMEDIATE');
        try {
          db.exec(SCHEMA);
          const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
          meta.run('app', APP_NAME);
          meta.run('schema_version', String(STORE_SCHEMA_VERSION));
          db.pragma(`application_id = ${APPLICATION_ID}`);
          db.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
          db.exec('COMMIT');
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      } else {
        // journal_mode is persistent; only switch (a write of the header) if someone changed it.
        if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') db.pragma('journal_mode = WAL');
      }
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      return new RunStore(file, db);
    } catch (e) {
      try {
        db?.close();
      } catch { /* already failing */ }
      if (!existed) {
        // Leave nothing behind for a store we failed to create.
        for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
      }
      if (e instanceof UserError) throw e;
      const err = e as { code?: string; message?: string };
      if (err.code === 'SQLITE_NOTADB') fail('not a vitopt run store (not an SQLite database)');
      if (err.code === 'SQLITE_CORRUPT' || err.code?.startsWith('SQLITE_CORRUPT')) fail('corrupt run store (database disk image is malformed)');
      if (typeof err.code === 'string' && err.code.startsWith('SQLITE_')) fail(`cannot open the run store (${err.code}: ${err.message})`);
      throw e;
    }
  }

  /** Read-only checks of an open database: 'empty' (a new file) or 'ours' (current schema); anything else fails. */
  private static inspect(db: Database.Database, fail: (p: string) => never): 'empty' | 'ours' {
    const version = Number(db.pragma('user_version', { simple: true }));
    const appId = Number(db.pragma('application_id', { simple: true }));
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[])
      .map((r) => r.name);
    const objects = Number((db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n);
    if (objects === 0 && version === 0 && appId === 0) return 'empty';
    let marked = appId === APPLICATION_ID;
    if (!marked && tables.includes('meta')) {
      try {
        const row = db.prepare("SELECT value FROM meta WHERE key = 'app'").get() as { value?: unknown } | undefined;
        marked = row?.value === APP_NAME;
      } catch { /* a foreign meta table */ }
    }
    if (!marked) {
      const what = tables.length ? `tables: ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}` : `user_version ${version}`;
      fail(`not a vitopt run store (an SQLite database of something else; ${what})`);
    }
    if (version !== STORE_SCHEMA_VERSION) {
      fail(`run store schema version ${version}, this vitopt reads version ${STORE_SCHEMA_VERSION} (${version > STORE_SCHEMA_VERSION
        ? 'written by a newer vitopt: upgrade vitopt' : 'written by an older vitopt'}; or give another --store)`);
    }
    const missing = TABLES.filter((t) => !tables.includes(t));
    if (missing.length) fail(`corrupt run store (missing tables: ${missing.join(', ')})`);
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') fail(`corrupt run store (${String(check)})`);
    return 'ours';
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---------------------------------------------------------------- experiments

  /** Start an experiment, or resume it: if the id exists it is returned (its params as first stored) and marked running. */
  startExperiment(e: { id: string; name: string; params: StoredExperiment['params']; tags?: Record<string, string> }): StoredExperiment {
    if (!e.id) throw new TypeError('startExperiment: empty id');
    const params = checkRecord('params', e.params, isParam);
    const tags = checkRecord('tags', e.tags ?? {}, isString);
    this.db.transaction(() => {
      const got = this.db.prepare('SELECT id FROM experiments WHERE id = ?').get(e.id);
      if (got) {
        this.db.prepare("UPDATE experiments SET status = 'running', ended_at = NULL WHERE id = ?").run(e.id);
      } else {
        this.db.prepare('INSERT INTO experiments (id, name, created_at, ended_at, status, params, tags, summary) VALUES (?, ?, ?, NULL, ?, ?, ?, NULL)')
          .run(e.id, e.name, new Date().toISOString(), 'running', JSON.stringify(params), JSON.stringify(tags));
      }
    }).immediate();
    return this.experimentById(e.id)!;
  }

  finishExperiment(id: string, status: StoredExperiment['status'], summary?: unknown): void {
    if (!EXPERIMENT_STATUSES.includes(status)) throw new TypeError(`finishExperiment: unknown status ${String(status)}`);
    const sets = ['status = ?', 'ended_at = ?'];
    const args: unknown[] = [status, new Date().toISOString()];
    if (summary !== undefined) {
      sets.push('summary = ?');
      args.push(JSON.stringify(summary) ?? null);
    }
    const r = this.db.prepare(`UPDATE experiments SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    if (r.changes === 0) throw new Error(`finishExperiment: no experiment ${id}`);
  }

  /** An experiment by id or unique id prefix (>= 4 characters); null if none. An ambiguous prefix throws UserError. */
  getExperiment(id: string): StoredExperiment | null {
    const full = this.resolve('experiments', 'experiment', id);
    return full === null ? null : this.experimentById(full);
  }

  /** Newest first. */
  experiments(): StoredExperiment[] {
    return (this.db.prepare('SELECT * FROM experiments ORDER BY created_at DESC, rowid DESC').all() as ExperimentRow[]).map(toExperiment);
  }

  private experimentById(id: string): StoredExperiment | null {
    const row = this.db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as ExperimentRow | undefined;
    return row ? toExperiment(row) : null;
  }

  // ---------------------------------------------------------------- runs

  /**
   * Insert or replace a run and its params/metrics/tags in ONE transaction, and link it to
   * r.experimentId (which must have been started). An existing run keeps its origin experiment.
   */
  saveRun(r: StoredRun): void {
    if (!r.id) throw new TypeError('saveRun: empty id');
    if (!RUN_STATUSES.includes(r.status)) throw new TypeError(`saveRun ${r.id}: unknown status ${String(r.status)}`);
    const params = checkRecord(`run ${r.id} params`, r.params, isParam);
    const metrics = checkRecord(`run ${r.id} metrics`, r.metrics, isNumber);
    const tags = checkRecord(`run ${r.id} tags`, r.tags ?? {}, isString);
    const db = this.db;
    db.transaction(() => {
      if (!db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(r.experimentId)) {
        throw new Error(`saveRun ${r.id}: experiment ${r.experimentId} has not been started (startExperiment)`);
      }
      db.prepare(`INSERT INTO runs (id, experiment_id, label, stage, status, reason, artifact_sha256, artifact_bytes, started_at, ended_at)
        VALUES (@id, @experimentId, @label, @stage, @status, @reason, @sha, @bytes, @startedAt, @endedAt)
        ON CONFLICT (id) DO UPDATE SET label = excluded.label, stage = excluded.stage, status = excluded.status, reason = excluded.reason,
          artifact_sha256 = excluded.artifact_sha256, artifact_bytes = excluded.artifact_bytes, started_at = excluded.started_at,
          ended_at = excluded.ended_at`).run({
        id: r.id, experimentId: r.experimentId, label: r.label, stage: r.stage, status: r.status, reason: r.reason ?? null,
        sha: r.artifact?.sha256 ?? null, bytes: r.artifact?.bytes ?? null, startedAt: r.startedAt, endedAt: r.endedAt ?? null,
      });
      this.link(r.experimentId, r.id);
      for (const t of ['params', 'metrics', 'tags']) db.prepare(`DELETE FROM ${t} WHERE run_id = ?`).run(r.id);
      const p = db.prepare('INSERT INTO params (run_id, key, ord, type, value) VALUES (?, ?, ?, ?, ?)');
      Object.entries(params).forEach(([k, v], i) => {
        const type = typeof v as 'string' | 'number' | 'boolean';
        p.run(r.id, k, i, type, type === 'boolean' ? (v ? 1 : 0) : v);
      });
      const m = db.prepare('INSERT INTO metrics (run_id, key, ord, value) VALUES (?, ?, ?, ?)');
      Object.entries(metrics).forEach(([k, v], i) => m.run(r.id, k, i, Number.isNaN(v) ? null : v));
      const t = db.prepare('INSERT INTO tags (run_id, key, ord, value) VALUES (?, ?, ?, ?)');
      Object.entries(tags).forEach(([k, v], i) => t.run(r.id, k, i, v));
    }).immediate();
  }

  /** List an existing run in another experiment too (a dedup hit): no-op if already linked. */
  linkRun(experimentId: string, runId: string): void {
    this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(experimentId)) throw new Error(`linkRun: no experiment ${experimentId}`);
      if (!this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) throw new Error(`linkRun: no run ${runId}`);
      this.link(experimentId, runId);
    }).immediate();
  }

  private link(experimentId: string, runId: string): void {
    this.db.prepare(`INSERT INTO experiment_runs (experiment_id, run_id, seq)
      VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM experiment_runs WHERE experiment_id = ?))
      ON CONFLICT DO NOTHING`).run(experimentId, runId, experimentId);
  }

  /** A run by id or unique id prefix (>= 4 characters); null if none. An ambiguous prefix throws UserError. */
  getRun(id: string): StoredRun | null {
    const full = this.resolve('runs', 'run', id);
    return full === null ? null : this.runById(full);
  }

  /** A finished run reusable by resume/dedup (exact id): status 'done' or 'failed' (the caller decides); null otherwise. */
  finishedRun(id: string): StoredRun | null {
    const r = this.runById(id);
    return r && (r.status === 'done' || r.status === 'failed') ? r : null;
  }

  /** Every run linked to the experiment, in start order (started_at, then the order they were saved). */
  runsOf(experimentId: string): StoredRun[] {
    const rows = this.db.prepare(`SELECT r.* FROM runs r JOIN experiment_runs l ON l.run_id = r.id
      WHERE l.experiment_id = ? ORDER BY r.started_at, l.seq`).all(experimentId) as RunRow[];
    return rows.map((row) => this.hydrate(row));
  }

  /** The experiments a run is linked to (its origin first). */
  experimentsOf(runId: string): string[] {
    return (this.db.prepare(`SELECT l.experiment_id AS id FROM experiment_runs l JOIN runs r ON r.id = l.run_id
      WHERE l.run_id = ? ORDER BY (l.experiment_id = r.experiment_id) DESC, l.rowid`).all(runId) as { id: string }[]).map((r) => r.id);
  }

  private runById(id: string): StoredRun | null {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? this.hydrate(row) : null;
  }

  private hydrate(row: RunRow): StoredRun {
    const params: Record<string, ParamValue> = {};
    for (const p of this.db.prepare('SELECT key, type, value FROM params WHERE run_id = ? ORDER BY ord').all(row.id) as
      { key: string; type: string; value: string | number | null }[]) {
      params[p.key] = p.type === 'boolean' ? p.value === 1 : p.type === 'number' ? (p.value === null ? NaN : Number(p.value)) : String(p.value);
    }
    const metrics: Record<string, number> = {};
    for (const m of this.db.prepare('SELECT key, value FROM metrics WHERE run_id = ? ORDER BY ord').all(row.id) as { key: string; value: number | null }[]) {
      metrics[m.key] = m.value === null ? NaN : m.value;
    }
    const tags: Record<string, string> = {};
    for (const t of this.db.prepare('SELECT key, value FROM tags WHERE run_id = ? ORDER BY ord').all(row.id) as { key: string; value: string }[]) {
      tags[t.key] = t.value;
    }
    return {
      id: row.id, experimentId: row.experiment_id, label: row.label, stage: row.stage, status: row.status as RunStatus, reason: row.reason,
      params, metrics, tags,
      artifact: row.artifact_sha256 === null ? null : { sha256: row.artifact_sha256, bytes: Number(row.artifact_bytes ?? 0) },
      startedAt: row.started_at, endedAt: row.ended_at,
    };
  }

  /** Exact id, else a unique prefix of at least 4 characters. */
  private resolve(table: 'runs' | 'experiments', what: string, id: string): string | null {
    if (this.db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(id)) return id;
    if (id.length < 4) return null;
    const rows = this.db.prepare(`SELECT id FROM ${table} WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 3`).all(id.length, id) as { id: string }[];
    if (rows.length > 1) throw new UserError(`${what} id prefix ${id} is ambiguous (${rows.map((r) => r.id).join(', ')}${rows.length > 2 ? ', …' : ''})`);
    return rows[0]?.id ?? null;
  }

  // ---------------------------------------------------------------- artifacts

  private get artifactDir(): string {
    return path.join(path.dirname(path.resolve(this.file)), 'artifacts');
  }

  /** Store a model file's bytes once, content-addressed (<dir of db>/artifacts/<sha256>.onnx; temp + fsync + rename). */
  putArtifact(bytes: Uint8Array): { sha256: string; bytes: number; path: string } {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const dest = path.join(this.artifactDir, `${sha256}.onnx`);
    let present = false;
    try {
      present = statSync(dest).size === bytes.byteLength;
    } catch { /* missing */ }
    if (!present) {
      mkdirSync(this.artifactDir, { recursive: true });
      const tmp = path.join(this.artifactDir, `.${sha256}.${process.pid}.${Date.now()}.tmp`);
      try {
        const fd = openSync(tmp, 'w');
        try {
          let off = 0;
          while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, dest);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    }
    return { sha256, bytes: bytes.byteLength, path: dest };
  }

  /** The stored file of an artifact, or null if it is missing. */
  artifactPath(sha256: string): string | null {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
    const p = path.join(this.artifactDir, `${sha256}.onnx`);
    return existsSync(p) ? p : null;
  }
}

function toExperiment(row: ExperimentRow): StoredExperiment {
  return {
    id: row.id, name: row.name, createdAt: row.created_at, endedAt: row.ended_at, status: row.status as ExperimentStatus,
    params: JSON.parse(row.params) as Record<string, ParamValue>, tags: JSON.parse(row.tags) as Record<string, string>,
    summary: row.summary === null ? null : JSON.parse(row.summary) as unknown,
  };
}
