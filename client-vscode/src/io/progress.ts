/** Tracks `$/progress` work-done tokens (begin → report → end) so the status bar can spin while work runs. */
import { Emitter } from '../events';

export type WorkDoneValue =
  | { kind: 'begin'; title: string; message?: string; percentage?: number }
  | { kind: 'report'; message?: string; percentage?: number }
  | { kind: 'end'; message?: string };

interface Work {
  title: string;
  message?: string;
  percentage?: number;
}

export class ProgressTracker {
  private active = new Map<string, Work>();
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  handle(token: string | number, value: WorkDoneValue): void {
    const key = String(token);
    if (value.kind === 'begin') {
      this.active.set(key, { title: value.title, message: value.message, percentage: value.percentage });
    } else if (value.kind === 'report') {
      const work = this.active.get(key);
      if (!work) return;
      this.active.set(key, { ...work, message: value.message ?? work.message, percentage: value.percentage ?? work.percentage });
    } else if (!this.active.delete(key)) {
      return;
    }
    this.changed.fire();
  }

  clear(): void {
    if (this.active.size === 0) return;
    this.active.clear();
    this.changed.fire();
  }

  get busy(): boolean {
    return this.active.size > 0;
  }

  /** One line per running piece of work, e.g. `Building image: step 3/7 (40%)`. */
  describe(): string[] {
    return [...this.active.values()].map((w) => {
      const pct = w.percentage === undefined ? '' : ` (${Math.round(w.percentage)}%)`;
      return `${w.title}${w.message ? `: ${w.message}` : ''}${pct}`;
    });
  }
}
