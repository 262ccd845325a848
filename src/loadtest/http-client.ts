/**
 * The load generator's HTTP client: node:http over a keep-alive agent sized to the load (one socket per
 * outstanding request), so connection set-up is paid once and never measured. Why not fetch: Node 20's
 * built-in undici does not export its Agent (the `undici` package is not a dependency here), so the pool
 * size could not be set; and node:http costs less CPU per request, which matters when the load generator
 * shares the machine with the server it measures.
 */
import { Agent, request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request that got no HTTP answer: the connection failed or the client's timeout passed. */
export class NoAnswerError extends Error {
  constructor(readonly kind: 'network' | 'timeout', message: string) {
    super(message);
  }
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly timeoutMs: number;

  constructor(baseUrl: string, o: { sockets: number; timeoutMs: number }) {
    this.base = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets: Math.max(1, o.sockets), maxFreeSockets: Math.max(1, o.sockets) });
    this.timeoutMs = o.timeoutMs;
  }

  send(method: 'GET' | 'POST', path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const req = request({
        agent: this.agent, host: this.base.hostname, port: this.base.port || 80, method,
        path: this.base.pathname.replace(/\/$/, '') + path,
        headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (e) => reject(new NoAnswerError('network', e.message)));
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new NoAnswerError('timeout', `no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(e instanceof NoAnswerError ? e : new NoAnswerError('network', `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`.trim())));
      req.end(body);
    });
  }

  async getJson<T>(path: string): Promise<{ status: number; json: T }> {
    const r = await this.send('GET', path);
    let json: T;
    try {
      json = JSON.parse(r.body.toString('utf8')) as T;
    } catch {
      throw new Error(`GET ${path}: answered ${r.status} with a body that is not JSON`);
    }
    return { status: r.status, json };
  }

  close(): void {
    this.agent.destroy();
  }
}
