// Realtime for the Tenantbase SDK (API.md §5.6): live document and file changes over
// server-sent events. Written by hand (scripts/sdk copies it beside the generated sources):
// OpenAPI describes the stream, not how to follow it.
//
//   import { Realtime } from '@tenantbase/sdk/dist/realtime.js';
//   const live = new Realtime({ baseUrl, headers: () => ({ Authorization: `Bearer ${token}`, 'X-Tenant-ID': tid }) });
//   live.on((e) => console.log(e.type, e.collection, e.id, e.document));
//   live.onReset(() => reloadEverything());
//   await live.subscribe([{ collection: 'posts', q: JSON.stringify({ tag: 'news' }) }]);
//
// The stream needs no credentials (a browser's EventSource cannot send any); the subscribing
// call carries them. The set is sent again whenever the server hands out a new client id (a
// reconnect it could not resume), so a page keeps its subscriptions across server restarts,
// load balancer moves and the end of a stream after a credentials change (then with the
// headers `headers()` gives at that moment).

export interface RealtimeSubscription {
  /** A collection of the tenant, or `_files` for its files. */
  collection: string;
  /** One document (or file); absent for all. */
  id?: string | null;
  /** A filter in the list query language (`q=`), as JSON text. */
  q?: string | null;
}

export interface RealtimeEvent {
  type: 'create' | 'update' | 'delete';
  collection: string;
  id: string;
  /** What a GET by the subscriber returns (create and update). */
  document?: Record<string, unknown>;
  /** `<client id>:<sequence>`. */
  eventId: string;
}

/** The part of the standard EventSource this module uses. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

export interface RealtimeOptions {
  /** The server, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /**
   * Headers for the subscribing call: `Authorization: Bearer …` or `X-API-Key`, and
   * `X-Tenant-ID` (a visitor of public collections sends only that).
   */
  headers: () => Record<string, string> | Promise<Record<string, string>>;
  /** Opens the stream; default: the global EventSource (browsers; Node: the `eventsource` package). */
  eventSource?: EventSourceFactory;
  /** fetch for the subscribing call; default: the global one. */
  fetch?: typeof fetch;
}

/** A failed subscribing call: the server's error envelope. */
export class RealtimeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RealtimeError';
  }
}

export class Realtime {
  private readonly source: EventSourceLike;
  private clientId: string | undefined;
  private subscriptions: RealtimeSubscription[] = [];
  private readonly listeners = new Set<(event: RealtimeEvent) => void>();
  private readonly resetListeners = new Set<() => void>();
  private readonly errorListeners = new Set<(error: unknown) => void>();
  private connected: Promise<string>;
  private resolveConnected!: (clientId: string) => void;

  constructor(private readonly options: RealtimeOptions) {
    this.connected = new Promise((resolve) => (this.resolveConnected = resolve));
    const open =
      options.eventSource ??
      ((url: string) => new (globalThis as unknown as { EventSource: new (url: string) => EventSourceLike }).EventSource(url));
    this.source = open(`${options.baseUrl.replace(/\/$/, '')}/v1/realtime`);
    this.source.addEventListener('connect', (e) => this.onConnect(e));
    for (const type of ['create', 'update', 'delete'] as const) {
      this.source.addEventListener(type, (e) => {
        const data = JSON.parse(e.data) as Omit<RealtimeEvent, 'type' | 'eventId'>;
        for (const l of this.listeners) l({ ...data, type, eventId: e.lastEventId });
      });
    }
    // The server lost track of what this page shows (missed changes, or the credentials
    // changed): reload it. The subscriptions are sent again with the next connect.
    this.source.addEventListener('reset', () => {
      for (const l of this.resetListeners) l();
    });
  }

  /** Calls `listener` with every change; returns a function that stops it. */
  on(listener: (event: RealtimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` when the page should reload what it shows. */
  onReset(listener: () => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  /** Calls `listener` when subscribing again after a reconnect failed. */
  onError(listener: (error: unknown) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Replaces the set of subscriptions (`[]`: none); rejects with a RealtimeError. */
  async subscribe(subscriptions: RealtimeSubscription[]): Promise<void> {
    this.subscriptions = subscriptions;
    await this.send(await this.connected);
  }

  /** Ends the stream. */
  close(): void {
    this.source.close();
  }

  private onConnect(e: MessageEvent): void {
    const { client_id: id } = JSON.parse(e.data) as { client_id: string };
    const renewed = this.clientId !== undefined && this.clientId !== id;
    this.clientId = id;
    this.resolveConnected(id);
    this.connected = Promise.resolve(id);
    if (renewed && this.subscriptions.length > 0) {
      this.send(id).catch((error) => {
        for (const l of this.errorListeners) l(error);
      });
    }
  }

  private async send(clientId: string): Promise<void> {
    const doFetch = this.options.fetch ?? fetch;
    const res = await doFetch(
      `${this.options.baseUrl.replace(/\/$/, '')}/v1/realtime/${encodeURIComponent(clientId)}/subscriptions`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(await this.options.headers()) },
        body: JSON.stringify({ subscriptions: this.subscriptions }),
      },
    );
    if (res.ok) return;
    let code = 'HTTP_ERROR';
    let message = `HTTP ${res.status}`;
    let details: unknown;
    try {
      const body = (await res.json()) as { error?: { code: string; message: string; details?: unknown } };
      if (body.error) ({ code, message, details } = body.error);
    } catch {
      // not the envelope: keep the status
    }
    throw new RealtimeError(res.status, code, message, details);
  }
}
