/** Every CLI command, one module each. Each module exports `register(program)`. */
import type { Command } from 'commander';
import * as models from './models.js';
import * as demo from './demo.js';
import * as convert from './convert.js';
import * as predict from './predict.js';
import * as analyze from './analyze.js';
import * as evalCommand from './eval.js';
import * as prune from './prune.js';
import * as quantize from './quantize.js';
import * as bench from './bench.js';
import * as hw from './hw.js';
import * as profile from './profile.js';
import * as tune from './tune.js';
import * as runs from './runs.js';
import * as serve from './serve.js';
import * as web from './web.js';
import * as loadtest from './loadtest.js';

export const COMMANDS: { register(program: Command): void }[] = [
  models,
  demo,
  convert,
  predict,
  analyze,
  evalCommand,
  prune,
  quantize,
  bench,
  hw,
  profile,
  tune,
  runs,
  serve,
  web,
  loadtest,
];
