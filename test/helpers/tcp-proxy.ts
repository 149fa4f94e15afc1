import net from 'node:net';

/**
 * A TCP proxy in front of a real server (PostgreSQL), so a test can take the
 * database away from a running Custos and give it back, without touching the
 * server itself. `cutOn` drops the connection the moment the client sends bytes
 * containing a marker, to fail a transaction half-way.
 */
export interface TcpProxy {
  readonly port: number;
  /** Destroys every proxied connection and stops accepting new ones. */
  stop(): Promise<void>;
  /** Accepts connections again, on the same port. */
  start(): Promise<void>;
  /** The next client packet containing `marker` is not forwarded: both sides are cut. */
  cutOn(marker: string): void;
  /** Whether the armed cut has happened. */
  readonly cut: boolean;
  /** Connections accepted so far. */
  readonly connections: number;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let marker: Buffer | null = null;
  let cut = false;
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (data: Buffer) => {
      if (marker && data.includes(marker)) {
        marker = null;
        cut = true;
        drop();
        return;
      }
      upstream.write(data);
    });
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', () => {
        drop();
        sockets.delete(s);
      });
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get cut() {
      return cut;
    },
    get connections() {
      return connections;
    },
    cutOn(m: string) {
      marker = Buffer.from(m);
      cut = false;
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const gone = [...sockets].map(
        (s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))),
      );
      for (const s of sockets) s.destroy();
      await Promise.all([closed, ...gone]);
      // Let the driver see its sockets close before anything else runs.
      await new Promise((r) => setTimeout(r, 50));
    },
    start: () => listen(port),
  };
}
