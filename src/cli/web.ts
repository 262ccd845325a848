/**
 * `vitopt web <model> -o site/`            build a static site that runs the model in the browser
 * `vitopt web --serve site/ [--port P]`    serve it with the COOP/COEP headers (--no-isolation: without)
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { emit, intArg } from './common.js';
import { jsonOption, quietOption } from './options.js';
import { assertWritable } from '../util/atomic.js';

interface WebOptions {
  output?: string;
  serve?: string;
  port?: number;
  host: string;
  isolation: boolean;
  variants: string;
  json?: boolean | string;
  quiet?: boolean;
}

function mib(b: number): string {
  return `${(b / 2 ** 20).toFixed(1)} MiB`;
}

export function register(program: Command): void {
  program.command('web')
    .description('build a static browser app for a model (onnxruntime-web: WebAssembly threads, WebGPU), or serve one')
    .argument('[model]', 'checkpoint, fashion-vit / fashion-mixer, or an .onnx file')
    .option('-o, --output <dir>', 'site folder to build (new, empty, or an earlier site)')
    .option('--variants <list>', 'model variants to ship: int8, fp32, fp16, int4 (comma-separated)', 'int8,fp32,fp16')
    .option('--serve <dir>', 'serve a built site (COOP/COEP headers for WebAssembly threads)')
    .option('--port <port>', 'port for --serve (default 8080; 0 = any free port)', intArg('--port', 0), 8080)
    .option('--host <host>', 'interface for --serve', '127.0.0.1')
    .option('--no-isolation', 'serve without the cross-origin isolation headers (single-threaded WebAssembly)')
    .addOption(jsonOption('the build report', { wasFlag: true }))
    .addOption(quietOption())
    .action(async (model: string | undefined, o: WebOptions) => {
      if (o.serve !== undefined) {
        if (model !== undefined || o.output !== undefined) throw new UserError('--serve takes a built site; build (<model> -o dir) and serve separately');
        const { serveSite } = await import('../web/serve.js');
        const s = await serveSite(o.serve, { port: o.port, host: o.host, isolation: o.isolation });
        process.stdout.write(`serving ${o.serve} at ${s.url} (${o.isolation ? 'cross-origin isolated: WebAssembly threads on' : 'no isolation headers: single-threaded WebAssembly'}); Ctrl-C to stop\n`);
        await new Promise<void>((resolve) => {
          const stop = () => void s.close().then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return;
      }
      if (model === undefined) throw new UserError('missing <model> (or --serve <dir> to serve a built site)');
      if (o.output === undefined) throw new UserError('missing -o, --output <dir> (the site folder to build)');
      if (typeof o.json === 'string') await assertWritable(o.json);
      const { parseVariants } = await import('../web/variants.js');
      const variants = parseVariants(o.variants);
      const { buildSite } = await import('../web/build.js');
      const r = await buildSite(model, o.output, { variants, onStep: (s) => { if (!o.quiet) process.stderr.write(`web: ${s}\n`); } });
      const lines = [
        `wrote ${r.output}/ (${mib(r.bytes)}): ${r.model}, ${r.resolution}×${r.resolution} input, ${r.samples} sample image(s)`,
        ...r.variants.map((v) => `  ${v.id.padEnd(5)} ${mib(v.bytes).padStart(10)}  ${v.backends.join('/')}: ${v.description}`),
        `serve it: vitopt web --serve ${r.output}   (any static host works; send the COOP/COEP headers for threads: docs/browser.md)`,
      ];
      await emit(r, lines.join('\n'), o.json);
    });
}
