/**
 * Text taken from a file (a dtype, a tensor name) as it may appear in a one-line error message:
 * control characters and line breaks escaped, long values cut. A hostile file must not be able to
 * break the CLI's one-line error contract or write escape sequences to the user's terminal.
 */
export function printable(text: string, max = 80): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
