#!/usr/bin/env node
/**
 * The vitopt CLI: a thin layer of commands over the library. Exit codes: 0 success, 2 bad input
 * (one line on stderr naming the file or flag), 1 internal error.
 */
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands.js';
import { installDeprecations } from './options.js';
import { isUserError } from '../errors.js';
import { packageVersion } from '../tune/versions.js';

function fail(e: unknown): never {
  if (isUserError(e)) {
    process.stderr.write(`vitopt: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`vitopt: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
}

const program = new Command('vitopt')
  .description('ViT and MLP-Mixer: checkpoint -> ONNX -> fast, verified inference on Node.js')
  .version(packageVersion(), '-V, --version', 'print the version of vitopt')
  .showHelpAfterError(false)
  // One spelling of the one-line error: commander's own parse errors ("error: unknown option …")
  // read like the commands' errors, "vitopt: …". Set before the commands are added: they inherit it.
  .configureOutput({ outputError: (s, write) => write(s.replace(/^error: /, 'vitopt: ')) })
  .exitOverride();
for (const c of COMMANDS) c.register(program);
installDeprecations(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help/version exit 0; usage errors (unknown option, bad argument) are bad input: exit 2.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  fail(e);
}
