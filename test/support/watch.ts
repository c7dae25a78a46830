/**
 * A watch that records its events, for asserting what an API client would observe.
 */
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { waitFor } from './wait.ts';

export interface RecordedEvent {
  type: string;
  object: KubernetesObject;
}

export class RecordingWatch {
  readonly events: RecordedEvent[] = [];
  private controller: AbortController | undefined;
  private ended: unknown = undefined;

  private constructor(private readonly what: string) {}

  /** Starts watching `path` (e.g. `/api/v1/namespaces/x/pods`) from `resourceVersion` if given. */
  static async start(kubeConfig: KubeConfig, path: string, resourceVersion?: string): Promise<RecordingWatch> {
    const recording = new RecordingWatch(path);
    const query: Record<string, string | boolean> = { allowWatchBookmarks: false };
    if (resourceVersion !== undefined) query.resourceVersion = resourceVersion;
    recording.controller = await new Watch(kubeConfig).watch(
      path,
      query,
      (type: string, object: KubernetesObject) => {
        recording.events.push({ type, object });
      },
      (error: unknown) => {
        recording.ended = error ?? 'closed by the server';
      },
    );
    return recording;
  }

  /** Waits for the first recorded event that matches, and returns it. */
  async next(match: (event: RecordedEvent) => boolean, what: string, timeoutMs = 30_000): Promise<RecordedEvent> {
    return waitFor(
      () => {
        const event = this.events.find(match);
        if (event) return Promise.resolve({ done: true as const, value: event });
        return Promise.resolve({
          done: false as const,
          observed: { watch: this.what, ended: this.ended, events: this.events.map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`) },
        });
      },
      { what, timeoutMs },
    );
  }

  stop(): void {
    this.controller?.abort();
  }
}
