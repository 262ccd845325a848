/** Every CLI command, one module each. Each module exports `register(program)`. */
import type { Command } from 'commander';
import * as models from './models.js';
import * as analyze from './analyze.js';

export const COMMANDS: { register(program: Command): void }[] = [
  models,
  analyze,
];
