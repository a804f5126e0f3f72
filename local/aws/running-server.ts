/** What starting one local AWS server gives back. */
export interface RunningServer {
  endpoint: string;
  port: number;
  /** Stops the server; a second call gets the first call's promise. */
  stop(): Promise<void>;
}

/** Wraps a stop function so that a second call gets the first call's promise. */
export function callOnce(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => (result ??= fn());
}
