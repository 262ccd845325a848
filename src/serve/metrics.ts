/**
 * Prometheus metrics (prom-client), one registry per server. Triton's names and labels
 * (docs/user_guide/metrics.md: counters in microseconds, labels model and version, failures by reason)
 * so existing Grafana dashboards work unchanged; plus histograms, which unlike Triton's summaries
 * aggregate across replicas (triton-inference-server/server#7287), and vitopt's own counters.
 */
import client from 'prom-client';

const LABELS = ['model', 'version'] as const;

export class ServeMetrics {
  readonly registry = new client.Registry();
  readonly success: client.Counter<'model' | 'version'>;
  readonly failure: client.Counter<'model' | 'version' | 'reason'>;
  readonly inferenceCount: client.Counter<'model' | 'version'>;
  readonly execCount: client.Counter<'model' | 'version'>;
  readonly requestUs: client.Counter<'model' | 'version'>;
  readonly queueUs: client.Counter<'model' | 'version'>;
  readonly computeInputUs: client.Counter<'model' | 'version'>;
  readonly computeInferUs: client.Counter<'model' | 'version'>;
  readonly computeOutputUs: client.Counter<'model' | 'version'>;
  readonly pending: client.Gauge<'model' | 'version'>;
  readonly requestSeconds: client.Histogram<'model' | 'version'>;
  readonly queueSeconds: client.Histogram<'model' | 'version'>;
  readonly batchSize: client.Histogram<'model' | 'version'>;
  readonly rejections: client.Counter<'model' | 'version' | 'reason'>;
  readonly restarts: client.Counter<'model' | 'version'>;
  readonly healthyWorkers: client.Gauge<'model' | 'version'>;

  /** `sample` is called at each scrape to read the live gauges (queue depth, healthy workers). */
  constructor(sample: () => { model: string; version: string; pending: number; healthy: number }[]) {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new client.Counter<L>({ name, help, labelNames, registers });
    this.success = counter('nv_inference_request_success', 'Number of successful inference requests, all batch sizes', LABELS);
    this.failure = counter('nv_inference_request_failure', 'Number of failed inference requests, all batch sizes', [...LABELS, 'reason'] as const);
    this.inferenceCount = counter('nv_inference_count', 'Number of inferences performed (a batch of n counts n)', LABELS);
    this.execCount = counter('nv_inference_exec_count', 'Number of model executions performed', LABELS);
    this.requestUs = counter('nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds', LABELS);
    this.queueUs = counter('nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds', LABELS);
    this.computeInputUs = counter('nv_inference_compute_input_duration_us', 'Cumulative compute input duration in microseconds (decode + preprocess)', LABELS);
    this.computeInferUs = counter('nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds', LABELS);
    this.computeOutputUs = counter('nv_inference_compute_output_duration_us', 'Cumulative inference compute output duration in microseconds', LABELS);
    const live = () => sample();
    this.pending = new client.Gauge({
      name: 'nv_inference_pending_request_count', help: 'Instantaneous number of pending requests awaiting execution per-model',
      labelNames: LABELS, registers,
      collect() {
        for (const s of live()) this.set({ model: s.model, version: s.version }, s.pending);
      },
    });
    this.healthyWorkers = new client.Gauge({
      name: 'vitopt_workers_healthy', help: 'Worker instances able to serve, per model', labelNames: LABELS, registers,
      collect() {
        for (const s of live()) this.set({ model: s.model, version: s.version }, s.healthy);
      },
    });
    const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    this.requestSeconds = new client.Histogram({ name: 'vitopt_request_duration_seconds', help: 'Inference request duration (receipt to response), seconds',
      labelNames: LABELS, buckets: latencyBuckets, registers });
    this.queueSeconds = new client.Histogram({ name: 'vitopt_queue_duration_seconds', help: 'Time requests waited in the batch queue, seconds',
      labelNames: LABELS, buckets: [0.0001, ...latencyBuckets], registers });
    this.batchSize = new client.Histogram({ name: 'vitopt_batch_size', help: 'Images per model execution',
      labelNames: LABELS, buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers });
    this.rejections = counter('vitopt_queue_rejections_total', 'Requests refused before running: reason full (queue full), timeout (queue wait), unavailable (no healthy worker)',
      [...LABELS, 'reason'] as const);
    this.restarts = counter('vitopt_worker_restarts_total', 'Worker instances restarted after a crash', LABELS);
    client.collectDefaultMetrics({ register: this.registry });
  }
}
