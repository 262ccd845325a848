/**
 * `vitopt hw`: measure this machine's ceilings with the engines themselves (fp32 and int8 matmul,
 * memory bandwidth, the wasm engine's matmul, which engines start) and cache the profile; `analyze`
 * and `bench` use it for roofline bounds. `--show` prints the cached profile without measuring.
 */
import { type Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { durationArg, emit, intArg, parseBytes } from './common.js';
import { deprecated, jsonOption, quietOption, setOption } from './options.js';
import { assertWritable } from '../util/atomic.js';

interface Opts {
  threads?: number;
  duration?: number;
  bandwidthSize?: number;
  wasm: boolean;
  cache: boolean;
  show?: boolean;
  json?: boolean | string;
  quiet?: boolean;
  quick?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('hw')
    .description('measure and cache this machine\'s ceilings (fp32/int8 matmul, memory bandwidth) with the engines themselves')
    .option('--threads <n>', `intra-op threads (default ${availableParallelism()})`, intArg('--threads', 1))
    .option('--duration <time>', 'length of each measurement, e.g. 2s or 500ms (default 2s; a bare number is seconds)', durationArg('--duration', 's'))
    .option('--bandwidth-size <size>', 'size of the tensor of the bandwidth test (default 256MiB)', parseBytes('--bandwidth-size'))
    .option('--no-wasm', 'skip the onnxruntime-web wasm matmul')
    .option('--no-cache', 'do not write the profile to the cache')
    .option('--show', 'print the cached profile (no measurement)')
    .addOption(jsonOption('the profile'))
    .option('--quick', 'a fast, rough probe (small matrices and tensors, 0.1 s per figure): a smoke check, not ceilings')
    .addOption(quietOption());
  deprecated(cmd, new Option('--seconds <s>', 'old spelling of --duration').argParser(durationArg('--seconds', 's')), '--duration',
    (v, c) => setOption(c, 'duration', '--duration', v));
  cmd.action(async (o: Opts) => {
    if (typeof o.json === 'string') await assertWritable(o.json);
    const { probeHardware, saveHwProfile, loadHwProfile, hwCachePath, renderHw } = await import('../bench/hw.js');
    if (o.show) {
      const p = await loadHwProfile();
      if (!p) throw new UserError(`${hwCachePath()}: no hardware profile for this machine yet (run 'vitopt hw')`);
      await emit(p, renderHw(p, hwCachePath()), o.json);
      return;
    }
    const seconds = o.duration;
    const p = await probeHardware({
      threads: o.threads, seconds: seconds ?? (o.quick ? 0.1 : undefined), bandwidthBytes: o.bandwidthSize ?? (o.quick ? 16 * 2 ** 20 : undefined),
      matmulShapes: o.quick ? [[256, 256, 256]] : undefined, wasm: o.wasm,
      onProgress: o.quiet ? undefined : (s) => process.stderr.write(`measuring ${s} …\n`),
    });
    const file = o.cache ? await saveHwProfile(p) : undefined;
    await emit(p, renderHw(p, file), o.json);
  });
}
