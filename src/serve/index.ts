/** The inference server as a library: startServer, and the monitor class on its own. */
export { startServer, buildApp, type RunningServer, type ServeOptions, DEFAULT_PORT, DEFAULT_HOST } from './server.js';
export { InferenceMonitor, type MonitorSnapshot, type WindowStats, type MonitorOptions } from './monitor.js';
export { type BatchingConfig, defaultBatching } from './config.js';
