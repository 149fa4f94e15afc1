import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it: headers and the exact raw body. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  eventId: string;
  /** 1 for the first time this event id arrived, 2 for the second, … */
  attempt: number;
  /** What the receiver answered: a status, or 'hang' (never answered). */
  answered: number | 'hang';
  /** When it was answered (absent while held back or hanging). */
  answeredAt?: number;
  at: number;
}

/** How to answer a request: a status code, 'hang' to never answer, or a status after a delay. */
export type Behaviour = (req: {
  eventId: string;
  attempt: number;
  json: any;
}) => number | 'hang' | { status: number; delayMs: number };

export interface Receiver {
  readonly port: number;
  readonly url: string;
  /** Every request received, in order. */
  readonly received: Received[];
  /** Requests answered with 2xx, each event id once (the first accepted). */
  accepted(): Received[];
  /** Changes how later requests are answered. */
  behave(fn: Behaviour): void;
  /** Resolves once `predicate` holds for the requests so far; rejects after `timeoutMs`. */
  waitFor(predicate: (received: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const alwaysOk: Behaviour = () => 200;

/**
 * A real HTTP server on 127.0.0.1 standing in for the platform's webhook
 * endpoint. `delayMs` holds each answer back (to make deliveries overlap).
 */
export async function startReceiver(
  options: { port?: number; behaviour?: Behaviour; delayMs?: number } = {},
): Promise<Receiver> {
  let behaviour = options.behaviour ?? alwaysOk;
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const eventId = String(req.headers['custos-event-id'] ?? '');
      const attempt = (attempts.get(eventId) ?? 0) + 1;
      attempts.set(eventId, attempt);
      const decided = behaviour({ eventId, attempt, json });
      const answer = typeof decided === 'object' ? decided.status : decided;
      const delayMs = typeof decided === 'object' ? decided.delayMs : options.delayMs;
      const record: Received = { headers: req.headers, body, json, eventId, attempt, answered: answer, at: Date.now() };
      received.push(record);
      if (answer === 'hang') return;
      const send = () => {
        res.statusCode = answer;
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
        record.answeredAt = Date.now();
      };
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks/custos`,
    received,
    accepted() {
      const seen = new Set<string>();
      return received.filter((r) => {
        if (typeof r.answered !== 'number' || r.answered >= 300 || seen.has(r.eventId)) return false;
        seen.add(r.eventId);
        return true;
      });
    },
    behave(fn) {
      behaviour = fn;
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) {
          throw new Error(`receiver: condition not met in ${timeoutMs} ms (${received.length} requests)`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on right now (bound, then released). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The webhook event each action must produce. */
export const EVENT_OF: Record<string, string> = {
  remove_content: 'content.removed',
  restrict_content: 'content.restricted',
  suspend_account: 'account.suspended',
  ban_account: 'account.banned',
  warn: 'account.warned',
};
