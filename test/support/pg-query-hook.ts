import { Client } from 'pg';

/**
 * Puts `hook` in front of every statement any pg client of this process sends (the Client
 * prototype's query is wrapped, so clients old and new, of any pool, pass through it); `send()`
 * sends the statement as it was asked. Returns the undo. Tests that hook statements run one at a
 * time in their file.
 */
export function hookClientQuery(hook: (text: string | undefined, send: () => unknown) => unknown): () => void {
  const proto = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string } | undefined;
    return hook(typeof config === 'string' ? config : config?.text, () => original.apply(this, args));
  };
  return () => void (proto.query = original);
}
