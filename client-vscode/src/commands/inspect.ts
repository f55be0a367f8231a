/** Show Task Status, Show Logs, and the status bar's task actions. */
import { M } from '../protocol';
import type { PickItem } from '../ui';
import type { CommandContext } from './context';
import { CMD } from './ids';
import { HAS_CONTAINER, LIVE, resolveTask } from './pickTask';

export const LOG_TAIL = 500;

export async function showStatus(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Show Task Status' });
  if (!task) return;
  await ctx.statusDocs.show(task.id);
}

export async function showLogs(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Show Logs', states: HAS_CONTAINER });
  if (!task) return;
  const logs = await ctx.api.request(M.logs, { taskId: task.id, tail: LOG_TAIL });
  ctx.outputs.showLogs(task.id, logs.text, LOG_TAIL);
}

interface ActionItem extends PickItem {
  command: string;
}

/** Actions offered for a task in a given state (the status bar click: task → action). */
export function actionsFor(state: string): ActionItem[] {
  const live = (LIVE as readonly string[]).includes(state);
  const items: (ActionItem | false)[] = [
    { label: '$(info) Show Task Status', command: CMD.showStatus },
    state === 'running' && { label: '$(terminal) Open Terminal in Task', command: CMD.openTerminal },
    state === 'running' && { label: '$(run) Run Command in Task', command: CMD.runCommand },
    (HAS_CONTAINER as readonly string[]).includes(state) && { label: '$(output) Show Logs', command: CMD.showLogs },
    state === 'running' && { label: '$(debug-pause) Pause Task', command: CMD.pauseResume },
    state === 'paused' && { label: '$(debug-continue) Resume Task', command: CMD.pauseResume },
    live && { label: '$(debug-stop) Stop Task', command: CMD.stopStart },
    (state === 'stopped' || state === 'failed') && { label: '$(debug-start) Start Task', command: CMD.stopStart },
    state === 'running' && { label: '$(hubot) Attach Agent', command: CMD.attachAgent },
    { label: '$(save) Checkpoint Task', command: CMD.checkpoint },
    { label: '$(history) Restore Checkpoint', command: CMD.restoreCheckpoint },
    { label: '$(git-merge) Integrate Task', command: CMD.integrate },
    { label: '$(trash) Remove Task', command: CMD.remove },
  ];
  return items.filter((item): item is ActionItem => item !== false);
}

export async function taskActions(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Task Actions' });
  if (!task) return;
  const action = await ctx.ui.pick(actionsFor(task.state), {
    title: `Dockyard: ${task.title} (${task.id}, ${task.state})`,
    placeHolder: 'What should happen to this task?',
  });
  if (action) await ctx.execute(action.command, task.id);
}
