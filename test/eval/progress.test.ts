import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressBar } from '../../src/eval/progress.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 100, write: (s: string) => { writes.push(s); return true; } } as unknown as NodeJS.WriteStream };
}

test('progress bar draws one \\r line on a terminal and nothing elsewhere', () => {
  const tty = fakeStream(true);
  const bar = progressBar('eval m', tty.stream);
  bar.update(5, 10);
  bar.update(10, 10);
  bar.finish();
  assert.ok(tty.writes.length >= 2);
  assert.match(tty.writes[0]!, /^\reval m \[#+\.+\] 5\/10 /);
  assert.ok(tty.writes.every((w) => !w.includes('\n')));
  assert.equal(tty.writes.at(-1), '\r\x1b[K');

  const pipe = fakeStream(false);
  const quiet = progressBar('eval m', pipe.stream);
  quiet.update(5, 10);
  quiet.finish();
  assert.deepEqual(pipe.writes, []);
});
