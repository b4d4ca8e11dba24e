/** One server-sent event as a client sees it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A minimal EventSource for tests: reads `text/event-stream` with fetch and
 * collects events (without reconnecting, so a test sees exactly what one
 * connection got). `close()` aborts the request.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  status = 0;
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;
  private ready!: () => void;
  readonly connected: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.connected = new Promise((resolve) => {
      this.ready = resolve;
    });
    this.done = this.read(url, headers).catch(() => undefined);
  }

  private async read(url: string, headers: Record<string, string>): Promise<void> {
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: this.abort.signal,
    });
    this.status = response.status;
    this.ready();
    if (!response.ok || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
          else if (field === 'data') data.push(value);
        }
        event.data = data.join('\n');
        if (data.length > 0) this.events.push(event);
        end = buffer.indexOf('\n\n');
      }
    }
  }

  /** Data of every event named `name`, parsed as JSON. */
  json<T>(name = 'alarm'): T[] {
    return this.events.filter((e) => e.event === name).map((e) => JSON.parse(e.data) as T);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
