import type { Server } from 'node:http';
import type { Express } from 'express';

/** Listens and resolves once the port is bound; `close()` also ends idle keep-alive sockets. */
export function listen(app: Express, port: number, host: string): Promise<{ server: Server; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) return reject(error);
      resolve({
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
