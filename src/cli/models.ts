import type { Command } from 'commander';
import { ZOO } from '../models/zoo.js';
import { countParams } from '../analyze/params.js';
import { emit } from './common.js';

export function listModels() {
  return ZOO.map((e) => ({ name: e.config.name!, family: e.config.family, source: e.source,
    params: countParams(e.config), config: e.config }));
}

export function register(program: Command): void {
  program.command('models')
    .description('list the model zoo with exact parameter counts (224 px, 1000 classes)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = listModels();
      const text = ['name                   family  params        defined in',
        ...rows.map((r) => `${r.name.padEnd(22)} ${r.family.padEnd(7)} ${r.params.toLocaleString('en-US').padStart(12)}  ${r.source}`)].join('\n');
      await emit(rows, text, o.json);
    });
}
