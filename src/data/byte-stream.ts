/**
 * Files read as a stream of bytes, gunzipped on the fly when they are gzip (detected by the magic
 * bytes, not the name), cut into fixed-size records. Lets a 47 MB IDX file be read batch by batch.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FileError } from '../errors.js';

const GZIP_MAGIC = [0x1f, 0x8b];

export async function isGzipFile(file: string): Promise<boolean> {
  const head = await readPrefix(file, 2);
  return head.length === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

/** The first `n` bytes of a file (fewer if it is shorter). */
export async function readPrefix(file: string, n: number): Promise<Uint8Array> {
  const fh = await openForReading(file);
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Open a file, turning "does not exist" and friends into a one-line FileError. */
export async function openForReading(file: string): Promise<fs.FileHandle> {
  try {
    const st = await fs.stat(file);
    if (st.isDirectory()) throw new FileError(file, 'is a directory, expected a file');
    return await fs.open(file, 'r');
  } catch (e) {
    throw asFileError(e, file);
  }
}

/** Node's I/O and zlib errors as FileError (anything already a FileError passes through). */
export function asFileError(e: unknown, file: string): Error {
  if (e instanceof FileError) return e;
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return new FileError(file, 'does not exist');
    case 'EACCES': case 'EPERM': return new FileError(file, 'is not readable (permission denied)');
    case 'EISDIR': return new FileError(file, 'is a directory, expected a file');
    case 'Z_BUF_ERROR': return new FileError(file, 'gzip data is truncated (unexpected end of file)');
    case 'Z_DATA_ERROR': return new FileError(file, `gzip data is corrupt (${err.message})`);
  }
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) return new FileError(file, `cannot gunzip: ${err.message}`);
  return e as Error;
}

/** The file's (decompressed) content as a stream of chunks. */
export async function openByteStream(file: string): Promise<Readable> {
  const gz = await isGzipFile(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (!gz) return raw;
  // pipeline() forwards an error of either stage to the stream we iterate and tears both down on break.
  return pipeline(raw, createGunzip({ chunkSize: 1 << 20 }), () => {});
}

/** The whole (decompressed) file in memory: for small files such as label lists. */
export async function readAllBytes(file: string): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  try {
    for await (const chunk of await openByteStream(file)) parts.push(chunk as Buffer);
  } catch (e) {
    throw asFileError(e, file);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Decompressed length and the first `headBytes` bytes, without holding the rest. */
export async function measureStream(file: string, headBytes: number): Promise<{ length: number; head: Uint8Array }> {
  const head = new Uint8Array(headBytes);
  let length = 0;
  try {
    for await (const chunk of await openByteStream(file)) {
      const c = chunk as Buffer;
      if (length < headBytes) head.set(c.subarray(0, headBytes - length), length);
      length += c.length;
    }
  } catch (e) {
    throw asFileError(e, file);
  }
  return { length, head: head.subarray(0, Math.min(length, headBytes)) };
}

/**
 * Records of `recordSize` bytes starting after `skip` bytes, yielded `perChunk` at a time (the last
 * chunk may be shorter), at most `maxRecords` in all. Stops reading as soon as enough were yielded.
 */
export async function* readRecords(file: string, skip: number, recordSize: number, perChunk: number,
  maxRecords: number): AsyncGenerator<Uint8Array> {
  if (maxRecords <= 0) return;
  const stream = await openByteStream(file);
  let pos = 0; // bytes of the stream consumed so far
  let records = 0;
  let buf = new Uint8Array(Math.min(perChunk, maxRecords) * recordSize);
  let fill = 0;
  try {
    for await (const chunk of stream) {
      let c = chunk as Buffer as Uint8Array;
      if (pos < skip) {
        const drop = Math.min(skip - pos, c.length);
        pos += drop;
        c = c.subarray(drop);
      }
      while (c.length > 0) {
        const take = Math.min(buf.length - fill, c.length);
        buf.set(c.subarray(0, take), fill);
        fill += take;
        pos += take;
        c = c.subarray(take);
        if (fill === buf.length) {
          records += buf.length / recordSize;
          yield buf;
          if (records >= maxRecords) return;
          buf = new Uint8Array(Math.min(perChunk, maxRecords - records) * recordSize);
          fill = 0;
        }
      }
    }
  } catch (e) {
    throw asFileError(e, file);
  } finally {
    stream.destroy();
  }
  // The stream ended early: the file changed since it was validated, or was short to begin with.
  throw new FileError(file, `is truncated: ended after ${records + Math.floor(fill / recordSize)} of ${maxRecords} records`);
}
