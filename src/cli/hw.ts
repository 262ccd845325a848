/**
 * `vitopt hw`: measure this machine's ceilings with the engines themselves (fp32 and int8 matmul,
 * memory bandwidth, the wasm engine's matmul, which engines start) and cache the profile; `analyze`
 * and `bench` use it for roofline bounds. `--show` prints the cached profile without measuring.
 */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { emit, intArg } from './common.js';
import { parseBytes } from './bench.js';

interface Opts {
  threads?: number;
  seconds?: string;
  bandwidthSize?: number;
  wasm: boolean;
  cache: boolean;
  show?: boolean;
  json?: boolean | string;
  quiet?: boolean;
  quick?: boolean;
}

export function register(program: Command): void {
  program.command('hw')
    .description('measure and cache this machine\'s ceilings (fp32/int8 matmul, memory bandwidth) with the engines themselves')
    .option('--threads <n>', `intra-op threads (default ${availableParallelism()})`, intArg('--threads', 1))
    .option('--seconds <s>', 'seconds per measurement (default 2)')
    .option('--bandwidth-size <size>', 'size of the tensor of the bandwidth test (default 256MiB)', parseBytes('--bandwidth-size'))
    .option('--no-wasm', 'skip the onnxruntime-web wasm matmul')
    .option('--no-cache', 'do not write the profile to the cache')
    .option('--show', 'print the cached profile (no measurement)')
    .option('--json [file]', 'the profile as JSON (to stdout, or to a file)')
    .option('--quick', 'a fast, rough probe (small matrices and tensors, 0.1 s per figure): a smoke check, not ceilings')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: Opts) => {
      const { probeHardware, saveHwProfile, loadHwProfile, hwCachePath, renderHw } = await import('../bench/hw.js');
      if (o.show) {
        const p = await loadHwProfile();
        if (!p) throw new UserError(`${hwCachePath()}: no hardware profile for this machine yet (run 'vitopt hw')`);
        await emit(p, renderHw(p, hwCachePath()), o.json);
        return;
      }
      const seconds = o.seconds === undefined ? undefined : Number(o.seconds);
      if (seconds !== undefined && !(seconds > 0)) throw new UserError('--seconds must be a number > 0');
      const p = await probeHardware({
        threads: o.threads, seconds: seconds ?? (o.quick ? 0.1 : undefined), bandwidthBytes: o.bandwidthSize ?? (o.quick ? 16 * 2 ** 20 : undefined),
        matmulShapes: o.quick ? [[256, 256, 256]] : undefined, wasm: o.wasm,
        onProgress: o.quiet ? undefined : (s) => process.stderr.write(`measuring ${s} …\n`),
      });
      const file = o.cache ? await saveHwProfile(p) : undefined;
      await emit(p, renderHw(p, file), o.json);
    });
}
