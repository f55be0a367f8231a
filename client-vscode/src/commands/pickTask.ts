/** Which task a command acts on: the tree node / id it was invoked with, else a quick pick. */
import type { Task, TaskState } from '../protocol';
import type { PickItem } from '../ui';
import { stateIcon } from '../views/icons';
import type { CommandContext } from './context';

/** States in which a task has a live (or restartable) container. */
export const LIVE: readonly TaskState[] = ['running', 'paused'];
export const HAS_CONTAINER: readonly TaskState[] = ['running', 'paused', 'stopped', 'failed'];

/** A task id from a command argument: `"t-…"`, a tree node `{task}`, `{taskId}` or a Task. */
export function taskIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (typeof arg !== 'object' || arg === null) return undefined;
  const obj = arg as Record<string, unknown>;
  if (typeof obj.taskId === 'string') return obj.taskId;
  if (typeof obj.task === 'object' && obj.task !== null) return taskIdOf(obj.task);
  if (typeof obj.id === 'string' && typeof obj.state === 'string') return obj.id;
  return undefined;
}

export interface TaskItem extends PickItem {
  task: Task;
}

export function taskItem(task: Task): TaskItem {
  const parent = task.parentId ? ` · subtask of ${task.parentId}` : '';
  return {
    label: `$(${stateIcon(task.state).id}) ${task.title}`,
    description: `${task.id} · ${task.state}${task.reason ? ` (${task.reason})` : ''}`,
    detail: `${task.image}${task.branch ? ` · ${task.branch}` : ''}${parent}`,
    task,
  };
}

export interface TaskQuery {
  /** The command's name, used in prompts and messages. */
  action: string;
  /** Only tasks in these states qualify (default: any). */
  states?: readonly TaskState[];
}

export async function resolveTask(ctx: CommandContext, arg: unknown, query: TaskQuery): Promise<Task | undefined> {
  const { action, states } = query;
  const wanted = states ? states.join(' or ') : '';
  const id = taskIdOf(arg);
  if (id !== undefined) {
    const task = ctx.store.get(id);
    if (!task) {
      await ctx.ui.error(`Dockyard: ${action}: task ${id} is not known (it may have been removed).`);
      return undefined;
    }
    if (states && !states.includes(task.state)) {
      await ctx.ui.info(`${action}: task "${task.title}" (${task.id}) is ${task.state}; it must be ${wanted}.`);
      return undefined;
    }
    return task;
  }
  const candidates = ctx.store.inStates(states);
  if (candidates.length === 0) {
    const which = states ? `${wanted} ` : '';
    await ctx.ui.info(`${action}: there are no ${which}tasks. Create one with "Dockyard: New Task".`);
    return undefined;
  }
  const picked = await ctx.ui.pick(candidates.map(taskItem), {
    title: `Dockyard: ${action}`,
    placeHolder: `Pick a ${states ? `${wanted} ` : ''}task`,
  });
  return picked?.task;
}
