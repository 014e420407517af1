import type { Response } from 'express';

/**
 * One poll for every screen: while at least one client listens, the snapshot is read once per
 * interval and the same bytes go to all of them as a Server-Sent Event (only when it changed, with
 * a comment every 15 s to keep proxies from closing the stream). No client ever causes a query.
 */
export class LiveFeed<T> {
  private readonly clients = new Set<Response>();
  private timer?: NodeJS.Timeout;
  private last?: string;
  private sinceSent = 0;

  constructor(private readonly read: () => Promise<T>, private readonly intervalMs: number, private readonly log: (line: string) => void) {}

  subscribe(res: Response): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
    if (this.last) res.write(this.last);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      void this.tick();
    }
  }

  get listeners(): number {
    return this.clients.size;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  close(): void {
    for (const client of this.clients) client.end();
    this.clients.clear();
    this.stop();
  }

  private ticking = false;
  private async tick(): Promise<void> {
    if (this.ticking) return; // a slow read skips a beat rather than piling up
    this.ticking = true;
    try {
      const event = `event: snapshot\ndata: ${JSON.stringify(await this.read())}\n\n`;
      this.sinceSent += this.intervalMs;
      if (event !== this.last) {
        this.last = event;
        this.sinceSent = 0;
        for (const client of this.clients) client.write(event);
      } else if (this.sinceSent >= 15_000) {
        this.sinceSent = 0;
        for (const client of this.clients) client.write(': keep-alive\n\n');
      }
    } catch (error) {
      this.log(`dashboard snapshot failed: ${(error as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }
}
