/** A typed fan-out of the daemon's notifications, so views and tests need no LanguageClient. */
import type { Disposable } from '../events';
import type { NotificationMap, NotificationName } from '../protocol';

type Listener<K extends NotificationName> = (params: NotificationMap[K]) => void;

export class NotificationBus {
  private listeners = new Map<NotificationName, Set<(params: never) => void>>();

  on<K extends NotificationName>(method: K, listener: Listener<K>): Disposable {
    const set = this.listeners.get(method) ?? new Set();
    this.listeners.set(method, set);
    set.add(listener as (params: never) => void);
    return { dispose: () => void set.delete(listener as (params: never) => void) };
  }

  fire<K extends NotificationName>(method: K, params: NotificationMap[K]): void {
    for (const listener of [...(this.listeners.get(method) ?? [])]) {
      (listener as Listener<K>)(params);
    }
  }
}
