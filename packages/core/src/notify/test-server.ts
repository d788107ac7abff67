/**
 * A real HTTP server on 127.0.0.1 and a random port for the notifier tests: it records every
 * request, answers as the test says (or never), and lets tests await requests instead of sleeping.
 */

import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as the server received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent. */
  body: string;
}

/** How the server answers one request: a response, or `hang` to never answer. */
export type Reply = { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** A recording HTTP server for tests. */
export class TestServer {
  readonly requests: ReceivedRequest[] = [];
  private reply: (request: ReceivedRequest, index: number) => Reply = () => ({ status: 204 });
  private waiters: { count: number; resolve: () => void }[] = [];
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    /** Base URL, `http://127.0.0.1:<port>`. */
    readonly url: string,
  ) {}

  /** Starts a server on 127.0.0.1 and a free port. */
  static async start(): Promise<TestServer> {
    let self: TestServer | null = null;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () =>
        self?.handle(req.method ?? "", req.url ?? "", req.headers, Buffer.concat(chunks), res),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    self = new TestServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** Sets how the server answers from now on (`index` counts every request received). */
  respond(reply: (request: ReceivedRequest, index: number) => Reply): void {
    this.reply = reply;
  }

  /** Resolves once the server has received `count` requests in all. */
  received(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Parsed JSON bodies of every request so far. */
  bodies(): unknown[] {
    return this.requests.map((r) => JSON.parse(r.body));
  }

  /** Stops the server, dropping hanging requests and idle keep-alive connections. */
  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
    res: ServerResponse,
  ): void {
    const request: ReceivedRequest = { method, path, headers, body: body.toString("utf8") };
    const index = this.requests.length;
    this.requests.push(request);
    const reply = this.reply(request, index);
    if (reply === "hang") this.hanging.add(res);
    else res.writeHead(reply.status, reply.headers).end(reply.body ?? "");
    const ready = this.waiters.filter((w) => this.requests.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.requests.length < w.count);
    for (const w of ready) w.resolve();
  }
}
