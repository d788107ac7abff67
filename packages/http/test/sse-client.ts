/** A minimal SSE reader over fetch for the tests: frames as they arrive, parsed per the spec. */

/** One event frame. */
export interface Frame {
  id: string | null;
  data: string | null;
  comment: string | null;
  retry: number | null;
}

/** An open event stream. */
export interface Stream {
  status: number;
  headers: Headers;
  /** The next frame (waits for it). */
  next(): Promise<Frame>;
  /** Frames until one whose data's type is `type`. */
  until(type: string): Promise<Frame[]>;
  close(): void;
}

/** Opens `url` as an event stream. */
export async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: ac.signal });
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const parse = (block: string): Frame => {
    const frame: Frame = { id: null, data: null, comment: null, retry: null };
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) frame.comment = line.slice(1).trim();
      else if (line.startsWith("id: ")) frame.id = line.slice(4);
      else if (line.startsWith("data: "))
        frame.data = (frame.data === null ? "" : `${frame.data}\n`) + line.slice(6);
      else if (line.startsWith("retry: ")) frame.retry = Number(line.slice(7));
    }
    return frame;
  };
  const next = async (): Promise<Frame> => {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return parse(block);
      }
      if (!reader) throw new Error("no body");
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return {
    status: res.status,
    headers: res.headers,
    next,
    async until(type) {
      const frames: Frame[] = [];
      for (;;) {
        const f = await next();
        frames.push(f);
        if (f.data && (JSON.parse(f.data) as { type: string }).type === type) return frames;
      }
    },
    close() {
      ac.abort();
    },
  };
}
