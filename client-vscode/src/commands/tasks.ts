/** New Task, Pause/Resume, Stop/Start, Remove. */
import type { Task } from '../protocol';
import { M } from '../protocol';
import type { CommandContext } from './context';
import { CMD } from './ids';
import { HAS_CONTAINER, LIVE, resolveTask, taskIdOf } from './pickTask';

export function validateTitle(value: string): string | undefined {
  const title = value.trim();
  if (title.length === 0) return 'A task needs a title.';
  if (title.length > 200) return 'At most 200 characters.';
  return undefined;
}

/** From a task's context menu, the new task becomes its subtask. */
export async function newTask(ctx: CommandContext, arg?: unknown): Promise<void> {
  const parentId = taskIdOf(arg);
  const parent = parentId ? ctx.store.get(parentId) : undefined;
  const title = await ctx.ui.input({
    title: parent ? `Dockyard: New Subtask of "${parent.title}"` : 'Dockyard: New Task',
    prompt: 'Title of the task (it names the branch, too)',
    placeHolder: 'fix the parser',
    validateInput: validateTitle,
  });
  if (title === undefined) return;
  const image = await ctx.ui.input({
    title: 'Dockyard: New Task',
    prompt: 'Image (leave empty for the workspace default from .dockyard/config.toml)',
    placeHolder: 'workspace default',
    value: ctx.settings().defaultImage,
  });
  if (image === undefined) return;
  const task = await ctx.ui.withProgress(`Dockyard: creating task "${title.trim()}"…`, false, () =>
    ctx.api.request(M.createTask, {
      title: title.trim(),
      ...(image.trim() ? { image: image.trim() } : {}),
      ...(parent ? { parentId: parent.id } : {}),
    }),
  );
  ctx.store.apply(task);
  const choice = await ctx.ui.info(`Dockyard: task "${task.title}" (${task.id}) is ${task.state}.`, 'Open Terminal', 'Show Status');
  if (choice === 'Open Terminal') await ctx.execute(CMD.openTerminal, task.id);
  if (choice === 'Show Status') await ctx.execute(CMD.showStatus, task.id);
}

export async function pauseResume(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Pause/Resume Task', states: LIVE });
  if (!task) return;
  const method = task.state === 'paused' ? M.resumeTask : M.pauseTask;
  ctx.store.apply(await ctx.api.request(method, { taskId: task.id }));
}

export async function stopStart(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Stop/Start Task', states: HAS_CONTAINER });
  if (!task) return;
  const stopping = LIVE.includes(task.state);
  const verb = stopping ? 'stopping' : 'starting';
  const updated = await ctx.ui.withProgress(`Dockyard: ${verb} "${task.title}"…`, false, () =>
    stopping ? ctx.api.request(M.stopTask, { taskId: task.id }) : ctx.api.request(M.startTask, { taskId: task.id }),
  );
  ctx.store.apply(updated);
}

export async function removeTask(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Remove Task' });
  if (!task) return;
  const live = LIVE.includes(task.state);
  const actions = task.branch ? ['Remove', 'Remove and Delete Branch'] : ['Remove'];
  const choice = await ctx.ui.confirm(
    `Remove task "${task.title}" (${task.id})?`,
    removalDetail(task, live),
    ...actions,
  );
  if (choice === undefined) return;
  await ctx.ui.withProgress(`Dockyard: removing "${task.title}"…`, false, () =>
    ctx.api.request(M.removeTask, { taskId: task.id, force: live, deleteBranch: choice === 'Remove and Delete Branch' }),
  );
  ctx.store.apply({ ...task, state: 'removed', revision: (task.revision ?? 0) + 1 });
}

function removalDetail(task: Task, live: boolean): string {
  const parts = [
    live ? `It is ${task.state}: its processes are killed.` : '',
    'Its container and its volume (/home/agent) are deleted.',
    task.branch ? `The branch ${task.branch} is kept unless you choose to delete it.` : '',
  ];
  return parts.filter(Boolean).join(' ');
}
