/**
 * The base of the local service fakes (Slack, Discord, Telegram) the chat notifiers are tested
 * against: a real HTTP server on 127.0.0.1 (TestServer) that checks each request as the service
 * documents it, answers the way the service does, can be told to answer 429 with a retry-after or
 * a 5xx, and records what it accepted and every rule a request broke.
 */

import { inspect } from "node:util";
import { type ReceivedRequest, type Reply, TestServer } from "../test-server.js";

/** A reply the test forces on the next request. */
export type ScriptedReply = Exclude<Reply, "hang"> | "hang";

/** What a service's fake knows about its protocol. */
export interface ServiceRules<M> {
  /** Reasons the request breaks the protocol (empty: none), and the parsed message. */
  check(request: ReceivedRequest): { violations: string[]; message: M | null };
  /** The answer to a valid request. */
  accept(message: M, index: number, request: ReceivedRequest): Reply;
  /** The answer to an invalid one. */
  reject(violations: string[], request: ReceivedRequest): Reply;
}

/** A fake service on a real local HTTP server. */
export class ServiceFake<M> {
  /** Every message accepted, in order. */
  readonly messages: M[] = [];
  /** Every rule broken, as `request #i: reason`. */
  readonly violations: string[] = [];
  private readonly script: ScriptedReply[] = [];
  private broken = false;

  protected constructor(
    protected readonly server: TestServer,
    rules: ServiceRules<M>,
  ) {
    server.respond((request, index) => {
      const scripted = this.script.shift();
      if (scripted !== undefined) return scripted;
      if (this.broken) return { status: 500, body: "internal error" };
      const { violations, message } = rules.check(request);
      if (violations.length > 0 || message === null) {
        this.violations.push(...violations.map((v) => `request #${index}: ${v}`));
        return rules.reject(violations, request);
      }
      this.messages.push(message);
      return rules.accept(message, this.messages.length - 1, request);
    });
  }

  /** The base URL of the server. */
  get origin(): string {
    return this.server.url;
  }

  /** Every request received, valid or not. */
  get requests(): readonly ReceivedRequest[] {
    return this.server.requests;
  }

  /** Forces the next replies, in order (then the fake answers as the service again). */
  answerNext(...replies: ScriptedReply[]): void {
    this.script.push(...replies);
  }

  /** Answers 500 to everything from now on. */
  breakIt(): void {
    this.broken = true;
  }

  /** Resolves once `count` requests arrived. */
  received(count: number): Promise<void> {
    return this.server.received(count);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** Starts the server for a fake. */
export function startServer(): Promise<TestServer> {
  return TestServer.start();
}

/** Collects violations: `need(cond, reason)`. */
export function checker(): { need: (ok: unknown, reason: string) => boolean; violations: string[] } {
  const violations: string[] = [];
  return {
    violations,
    need: (ok, reason) => {
      if (!ok) violations.push(reason);
      return Boolean(ok);
    },
  };
}

/**
 * The checks every JSON webhook shares: POST, the exact path, a JSON content type, a JSON object
 * body with only `keys`. Returns the body (null when not an object) and the collector to go on with.
 */
export function checkJsonPost(request: ReceivedRequest, path: string, keys: ReadonlySet<string>) {
  const { need, violations } = checker();
  need(request.method === "POST", `method ${request.method}, not POST`);
  need(request.path.split("?")[0] === path, `path ${request.path} is not this endpoint`);
  need(
    String(request.headers["content-type"] ?? "").startsWith("application/json"),
    "content-type is not application/json",
  );
  const parsed = jsonBody(request);
  const body = need(isObject(parsed), "body is not a JSON object") && isObject(parsed) ? parsed : null;
  for (const key of Object.keys(body ?? {})) need(keys.has(key), `unknown key ${key}`);
  return { need, violations, body };
}

/** A JSON body, or null when it is not JSON. */
export function jsonBody(request: ReceivedRequest): unknown {
  try {
    return JSON.parse(request.body);
  } catch {
    return null;
  }
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads a field value back: JSON when it was set as code, the string itself otherwise. */
export function readValue(text: string, code: boolean): unknown {
  return code ? JSON.parse(text) : text;
}

/** A fetch that records when (on `now`) each request was sent and how many are in flight. */
export function tappedFetch(now: () => number) {
  const tap = {
    sends: [] as number[],
    inflight: 0,
    fetch: async (input: string, init: RequestInit): Promise<Response> => {
      tap.sends.push(now());
      tap.inflight += 1;
      try {
        // Read the whole answer here, so that "nothing in flight" means no I/O left at all.
        const res = await fetch(input, init);
        const body = await res.arrayBuffer();
        const empty = [101, 204, 205, 304].includes(res.status);
        return new Response(empty ? null : body, {
          status: res.status,
          statusText: res.statusText,
          headers: res.headers,
        });
      } finally {
        tap.inflight -= 1;
      }
    },
  };
  return tap;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits (in real time, up to 5 s) until `condition` holds: for I/O the injected clock cannot move. */
export async function until(condition: () => boolean, what = "condition"): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

/** Waits until no tapped request is in flight and the promises it set going have settled. */
export async function settle(tap: { inflight: number }): Promise<void> {
  for (let quiet = 0; quiet < 3; ) {
    await turn();
    quiet = tap.inflight === 0 ? quiet + 1 : 0;
  }
}

/** Every way a value is commonly printed: String(), JSON, util.inspect with hidden fields. */
export function printedForms(values: readonly unknown[]): string[] {
  return values.flatMap((x) => [
    String(x),
    JSON.stringify(x) ?? "",
    inspect(x, { depth: 10, showHidden: true }),
  ]);
}

/** What `fn` throws (undefined if it does not). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
