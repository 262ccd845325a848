/**
 * reproduce.sh: the exact vitopt commands that rebuild the chosen model from the tune's input, run in
 * a fresh directory. The result equals model.onnx except for the `vitopt.tune` provenance entry the
 * tuner adds to the metadata.
 */
import { packagePath } from '../util/paths.js';
import { shellQuote } from './input.js';
import type { Candidate, TuneReport } from './types.js';

export function reproduceScript(r: TuneReport, chosen: Candidate): string {
  const last = chosen.commands[chosen.commands.length - 1] ?? '';
  const out = /-o (\S+)/.exec(last)?.[1] ?? 'model.onnx';
  return [
    '#!/bin/sh',
    `# Rebuilds the model \`vitopt tune\` chose: ${chosen.label}`,
    `# Tune: ${r.command}`,
    `# Made ${r.date} with vitopt ${r.version}, ${r.runtime}. Run it in an empty directory; the final file`,
    '# equals model.onnx except for its vitopt.tune metadata entry. VITOPT names the vitopt command to use.',
    'set -eu',
    `VITOPT=\${VITOPT:-${shellQuote(`node ${packagePath('dist', 'src', 'cli', 'main.js')}`)}}`,
    'vitopt() { $VITOPT "$@"; }',
    ...chosen.commands,
    `echo "rebuilt: ${out}"`,
    '',
  ].join('\n');
}
