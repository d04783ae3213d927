import * as net from 'net';

/**
 * A loopback TCP forwarder in front of a server, for outages a test can time: `restart(downMs)`
 * drops every connection and refuses new ones for `downMs`, then forwards again on the same port,
 * as a database writer that restarts does (its endpoint refuses connections until it is back).
 */
export class RestartingProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private listeningPort = 0;

  constructor(private readonly target: { readonly host: string; readonly port: number }) {}

  get port(): number {
    return this.listeningPort;
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listeningPort, '127.0.0.1', () => resolve());
    });
    this.listeningPort = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Every connection drops now; new ones are refused for `downMs`; then it forwards again. */
  async restart(downMs: number): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
