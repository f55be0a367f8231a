/** The client's copy of the daemon's tasks: filled by listTasks, kept current by dockyard/taskChanged. */
import { Emitter } from '../events';
import type { Task, TaskState } from '../protocol';

export class TaskStore {
  private tasks = new Map<string, Task>();
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  /** Replace everything with a fresh listing (keeping an entry a newer notification already brought). */
  reset(tasks: readonly Task[]): void {
    const next = new Map<string, Task>();
    for (const task of tasks) {
      const known = this.tasks.get(task.id);
      const newest = known && (known.revision ?? 0) > (task.revision ?? 0) ? known : task;
      if (newest.state !== 'removed') next.set(task.id, newest);
    }
    this.tasks = next;
    this.changed.fire();
  }

  /** Apply one taskChanged; stale revisions are ignored; `removed` drops the task. True if anything changed. */
  apply(task: Task): boolean {
    const known = this.tasks.get(task.id);
    if (known && (known.revision ?? 0) > (task.revision ?? 0)) return false;
    if (task.state === 'removed') {
      if (!this.tasks.delete(task.id)) return false;
    } else {
      this.tasks.set(task.id, task);
    }
    this.changed.fire();
    return true;
  }

  clear(): void {
    this.tasks.clear();
    this.changed.fire();
  }

  get(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  /** Every task, oldest first. */
  all(): Task[] {
    return [...this.tasks.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  inStates(states: readonly TaskState[] | undefined): Task[] {
    return states ? this.all().filter((t) => states.includes(t.state)) : this.all();
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const task of this.tasks.values()) counts[task.state] = (counts[task.state] ?? 0) + 1;
    return counts;
  }
}
