import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the service and PostgreSQL that fails on purpose, as networks do:
 * - `refuse`: new connections are reset as they arrive (a database that is down);
 * - `reset`: every open connection is reset now, then traffic passes again;
 * - `freeze`: nothing moves either way and nothing is closed (a hung database or a silent
 *   network partition: the case that needs client-side deadlines);
 * - `slow`: each chunk is held for `delayMs` before it is passed on.
 * Written by hand for the tests: Toxiproxy does this but is neither in Debian nor on npm, and
 * this needs nothing but node:net. Listens on 127.0.0.1 only.
 */
export type FaultMode = 'pass' | 'refuse' | 'freeze' | 'slow';

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /** Chunks held while frozen or slow, in order, for each direction. */
  readonly held: { toServer: Buffer[]; toClient: Buffer[] };
}

export class FaultProxy {
  private mode: FaultMode = 'pass';
  private delayMs = 0;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const proxies: FaultProxy[] = [];
    const server = createServer((client) => proxies[0]!.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxies.push(new FaultProxy(server, (server.address() as AddressInfo).port));
    return proxies[0]!;
  }

  /** The connection string through the proxy, for a PostgreSQL URL. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  get current(): FaultMode {
    return this.mode;
  }

  set(mode: FaultMode, delayMs = 0): void {
    this.mode = mode;
    this.delayMs = delayMs;
    if (mode === 'pass') for (const pair of this.pairs) this.release(pair);
  }

  /** Resets every open connection (RST where the platform allows it). */
  resetAll(): void {
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.server.resetAndDestroy();
    }
    this.pairs.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    this.resetAll();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const server = connect(target.port, target.host);
    const pair: Pair = { client, server, held: { toServer: [], toClient: [] } };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => this.forward(pair, 'toServer', chunk));
    server.on('data', (chunk: Buffer) => this.forward(pair, 'toClient', chunk));
  }

  private forward(pair: Pair, direction: 'toServer' | 'toClient', chunk: Buffer): void {
    const to = direction === 'toServer' ? pair.server : pair.client;
    // A database that is down answers nothing on any connection: one that outlived resetAll (its
    // upstream still connecting, or its data already read when the mode changed) is reset as soon
    // as anything moves on it, so nothing can be committed while refusing.
    if (this.mode === 'refuse') {
      pair.client.resetAndDestroy();
      pair.server.resetAndDestroy();
      this.pairs.delete(pair);
      return;
    }
    if (this.mode === 'freeze' || pair.held[direction].length > 0) {
      pair.held[direction].push(chunk);
      return;
    }
    if (this.mode === 'slow' && this.delayMs > 0) {
      pair.held[direction].push(chunk);
      setTimeout(() => {
        const next = pair.held[direction].shift();
        if (next && !to.destroyed) to.write(next);
        if (this.mode !== 'freeze') this.drain(pair, direction);
      }, this.delayMs);
      return;
    }
    if (!to.destroyed) to.write(chunk);
  }

  private drain(pair: Pair, direction: 'toServer' | 'toClient'): void {
    const to = direction === 'toServer' ? pair.server : pair.client;
    if (this.mode === 'slow') return;
    for (let chunk = pair.held[direction].shift(); chunk; chunk = pair.held[direction].shift())
      if (!to.destroyed) to.write(chunk);
  }

  private release(pair: Pair): void {
    this.drain(pair, 'toServer');
    this.drain(pair, 'toClient');
  }
}
