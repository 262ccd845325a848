/**
 * A small YAML reader for the subset the manifests in deploy/ use — no YAML parser is a dependency of
 * vitopt, and one is not installed for tests alone. Supported: documents separated by `---`, comments,
 * block mappings, block sequences (scalars or mappings as items), plain / 'single' / "double" quoted
 * scalars (true/false/null and numbers resolved as YAML 1.2 core), and flow `[a, b]` / `{}` without
 * nesting. Anything else (anchors, tags, block scalars, multi-line flow) is rejected with the line
 * number, so a manifest cannot silently drift outside what the tests understand. The test checks this
 * reader against PyYAML where one is installed.
 */

export type Yaml = string | number | boolean | null | Yaml[] | { [k: string]: Yaml };

interface Line { indent: number; text: string; no: number }

function stripComment(s: string): string {
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q && !(q === '"' && s[i - 1] === '\\')) q = null;
    } else if (c === '"' || c === "'") {
      q = c;
    } else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]!))) {
      return s.slice(0, i).trimEnd();
    }
  }
  return s.trimEnd();
}

function fail(no: number, why: string): never {
  throw new Error(`YAML line ${no}: ${why}`);
}

export function scalar(raw: string, no: number): Yaml {
  const s = raw.trim();
  if (s === '') return null;
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) fail(no, `unterminated string ${s}`);
    return JSON.parse(s) as string;
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) fail(no, `unterminated string ${s}`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s === '[]') return [];
  if (s === '{}') return {};
  if (s.startsWith('[')) {
    if (!s.endsWith(']') || /[[\]{}]/.test(s.slice(1, -1))) fail(no, `only flat flow sequences are supported: ${s}`);
    return s.slice(1, -1).split(',').map((x) => scalar(x, no));
  }
  if (/^[&*!|>{]/.test(s)) fail(no, `unsupported YAML feature: ${s}`);
  if (/^(true|false)$/.test(s)) return s === 'true';
  if (/^(null|~)$/.test(s)) return null;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(s)) return Number(s);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s)) return Number(s);
  return s;
}

/** `key: rest` → [key, rest] (key plain or quoted), or null when the text is not a mapping entry. */
function splitKey(text: string, no: number): [string, string] | null {
  const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'#][^:#]*?)\s*:(?:\s+(.*)|$)/.exec(text);
  if (!m) return null;
  const k = scalar(m[1]!, no);
  return [String(k), m[2] ?? ''];
}

class Parser {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  parse(): Yaml {
    if (this.lines.length === 0) return null;
    const v = this.block(this.lines[0]!.indent);
    if (this.i < this.lines.length) fail(this.lines[this.i]!.no, 'unexpected indentation');
    return v;
  }

  private block(indent: number): Yaml {
    const first = this.lines[this.i]!;
    if (first.indent !== indent) fail(first.no, 'bad indentation');
    return first.text.startsWith('- ') || first.text === '-' ? this.sequence(indent) : this.mapping(indent);
  }

  /** The value after `key:` or `- `: inline, or the more-indented block that follows (a sequence may sit at the key's indent). */
  private valueAfter(rest: string, indent: number, no: number, keyed: boolean): Yaml {
    if (rest !== '') return scalar(rest, no);
    const next = this.lines[this.i];
    if (!next) return null;
    if (next.indent > indent) return this.block(next.indent);
    if (keyed && next.indent === indent && next.text.startsWith('- ')) return this.sequence(indent);
    return null;
  }

  private mapping(indent: number): Yaml {
    const out: { [k: string]: Yaml } = {};
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent < indent) break;
      if (l.indent > indent) fail(l.no, 'unexpected indentation');
      if (l.text.startsWith('- ')) break;
      const kv = splitKey(l.text, l.no);
      if (!kv) fail(l.no, `expected "key: value", got ${l.text}`);
      if (kv[0] in out) fail(l.no, `duplicate key ${kv[0]}`);
      this.i++;
      out[kv[0]] = this.valueAfter(kv[1], indent, l.no, true);
    }
    return out;
  }

  private sequence(indent: number): Yaml {
    const out: Yaml[] = [];
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent !== indent || !(l.text.startsWith('- ') || l.text === '-')) break;
      const rest = l.text === '-' ? '' : l.text.slice(2).trimStart();
      const itemIndent = indent + (l.text.length - rest.length);
      if (rest !== '' && splitKey(rest, l.no)) {
        // "- key: value" starts a mapping whose other keys are indented to line up with "key".
        this.lines[this.i] = { indent: itemIndent, text: rest, no: l.no };
        out.push(this.mapping(itemIndent));
      } else {
        this.i++;
        out.push(this.valueAfter(rest, indent, l.no, false));
      }
    }
    return out;
  }
}

/** Every document of a YAML stream. */
export function parseYamlDocuments(source: string): Yaml[] {
  const docs: Line[][] = [[]];
  source.split('\n').forEach((raw, k) => {
    if (/^---\s*$/.test(raw)) {
      docs.push([]);
      return;
    }
    if (/\t/.test(raw.match(/^\s*/)![0])) fail(k + 1, 'tabs in indentation');
    const text = stripComment(raw);
    if (text.trim() === '') return;
    docs[docs.length - 1]!.push({ indent: text.length - text.trimStart().length, text: text.trimStart(), no: k + 1 });
  });
  return docs.filter((d) => d.length).map((d) => new Parser(d).parse());
}
