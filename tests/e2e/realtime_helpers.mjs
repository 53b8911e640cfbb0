// Realtime clients for tests (issue #25): an `eventsource` stream (the maintained package a
// Node app would use) that records every event, and the subscribing call.
import { EventSource } from 'eventsource';

export const EVENT_TYPES = ['connect', 'create', 'update', 'delete', 'reset', 'overflow'];

/**
 * Opens a stream on `server` (headers sent with it; `streams` collects it for closing): its
 * client id, every event received ({type, id, data}), and next(type, ms), which waits for the
 * next event of a type (or fails after `ms`).
 */
export async function openStream(server, { headers = {}, streams = [] } = {}) {
  const es = new EventSource(`${server.url}/v1/realtime`, {
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, ...headers } }),
  });
  streams.push(es);
  const events = [];
  const waiters = [];
  const deliver = (type) => (e) => {
    const ev = { type, id: e.lastEventId, data: e.data ? JSON.parse(e.data) : null };
    events.push(ev);
    for (const w of [...waiters]) w();
  };
  for (const type of EVENT_TYPES) es.addEventListener(type, deliver(type));
  let seen = 0;
  const next = (type, ms = 5000) => new Promise((resolve, reject) => {
    const check = () => {
      while (seen < events.length) {
        const ev = events[seen++];
        if (!type || ev.type === type) {
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          resolve(ev);
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`no ${type ?? 'event'} within ${ms} ms; got ${JSON.stringify(events.slice(seen))}`));
    }, ms);
    waiters.push(check);
    check();
  });
  const connect = await next('connect');
  return { es, clientId: connect.data.client_id, events, next, connectId: connect.id };
}

/** Sets a client's subscriptions on `server` (the response). */
export const subscribe = (server, clientId, headers, subscriptions) =>
  server.post(`/v1/realtime/${clientId}/subscriptions`, { headers, json: { subscriptions } });

/** Events that arrive within `ms` (for proving that nothing does). */
export async function quietFor(stream, ms = 400) {
  const before = stream.events.length;
  await new Promise((r) => setTimeout(r, ms));
  return stream.events.slice(before);
}
