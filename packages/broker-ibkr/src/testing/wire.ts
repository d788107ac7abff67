/**
 * The TWS API socket framing (V100+), server side: a connection opens with the raw prefix
 * `API\0`, a 4-byte big-endian length and the client's version range (`v100..193`); from then on
 * every message is a 4-byte big-endian length followed by NUL-terminated UTF-8 fields. The
 * server's first message is `[serverVersion, connectionTime]`.
 */

/** A field as the fake writes it: numbers and strings as ASCII, booleans as 0/1, null/undefined empty. */
export type Field = string | number | boolean | null | undefined;

/** The largest message the real client accepts (its MAX_V100_MESSAGE_LENGTH). */
const MAX_MESSAGE_LENGTH = 0xffffff;

function fieldText(value: Field): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/** One framed message: length prefix, then every field followed by NUL. */
export function encodeMessage(fields: readonly Field[]): Buffer {
  let text = "";
  for (const f of fields) text += `${fieldText(f)}\0`;
  const body = Buffer.from(text, "utf8");
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** What the client announced in its handshake. */
export interface ClientHello {
  minVersion: number;
  maxVersion: number;
}

/** Parses `v100..193` (or a single `v100`). */
export function parseVersionRange(text: string): ClientHello | null {
  const m = /^v(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const min = Number(m[1]);
  return { minVersion: min, maxVersion: m[2] === undefined ? min : Number(m[2]) };
}

const API_PREFIX = Buffer.from("API\0", "latin1");

/**
 * Splits a connection's incoming bytes into the handshake and then into messages (arrays of
 * fields). Feed it every chunk; it calls back as soon as a whole unit has arrived.
 */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private greeted = false;

  constructor(
    private readonly onHello: (hello: ClientHello | null) => void,
    private readonly onMessage: (fields: string[]) => void,
    private readonly onProtocolError: (reason: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.greeted) {
      if (this.buffer.length < API_PREFIX.length + 4) return;
      if (!this.buffer.subarray(0, API_PREFIX.length).equals(API_PREFIX)) {
        this.onProtocolError("the connection did not start with API\\0");
        return;
      }
      const length = this.buffer.readUInt32BE(API_PREFIX.length);
      const start = API_PREFIX.length + 4;
      if (this.buffer.length < start + length) return;
      const text = this.buffer.subarray(start, start + length).toString("utf8");
      this.buffer = this.buffer.subarray(start + length);
      this.greeted = true;
      this.onHello(parseVersionRange(text));
    }
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length > MAX_MESSAGE_LENGTH) {
        this.onProtocolError(`message of ${length} bytes exceeds the protocol's maximum`);
        return;
      }
      if (this.buffer.length < 4 + length) return;
      const body = this.buffer.subarray(4, 4 + length).toString("utf8");
      this.buffer = this.buffer.subarray(4 + length);
      const fields = body.split("\0");
      // Every field ends with NUL, so the split leaves one empty string after the last one.
      if (fields[fields.length - 1] === "") fields.pop();
      this.onMessage(fields);
    }
  }
}

/** Reads a message's fields in order, as the server-side decoder of a request. */
export class FieldReader {
  private index = 0;

  constructor(private readonly fields: readonly string[]) {}

  /** Fields left unread. */
  get remaining(): number {
    return this.fields.length - this.index;
  }

  str(): string {
    const value = this.fields[this.index];
    this.index++;
    return value ?? "";
  }

  int(): number {
    const text = this.str();
    return text === "" ? 0 : Number.parseInt(text, 10);
  }

  /** An integer, or null when empty or IB's "unset" (Integer.MAX_VALUE). */
  intOrNull(): number | null {
    const text = this.str();
    if (text === "") return null;
    const n = Number.parseInt(text, 10);
    return n === 2_147_483_647 ? null : n;
  }

  /** A decimal as text, or null when empty or IB's "unset" (Double.MAX_VALUE). */
  decimalOrNull(): string | null {
    const text = this.str();
    if (text === "" || Number(text) === Number.MAX_VALUE || !Number.isFinite(Number(text))) return null;
    return text;
  }

  bool(): boolean {
    const text = this.str();
    return text === "1" || text.toLowerCase() === "true";
  }

  skip(n = 1): void {
    this.index += n;
  }
}
