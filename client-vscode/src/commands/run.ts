/** Run Command in Task (output streamed to the task's channel) and Open Terminal in Task (PTY session). */
import { isRpcError } from '../errors';
import { ErrorCodes, M } from '../protocol';
import type { CommandContext } from './context';
import { resolveTask } from './pickTask';

const lastCommand = new Map<string, string>();

export async function runCommand(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Run Command in Task', states: ['running'] });
  if (!task) return;
  const command = await ctx.ui.input({
    title: `Dockyard: Run Command in "${task.title}"`,
    prompt: 'Shell command (run by /bin/sh -c in /workspace; output streams to the task\'s output channel)',
    placeHolder: 'make test',
    value: lastCommand.get(task.id),
    validateInput: (v) => (v.trim() ? undefined : 'Type a command.'),
  });
  if (command === undefined) return;
  lastCommand.set(task.id, command);
  const execId = `x-${ctx.newId()}`;
  ctx.outputs.beginExec(task.id, execId, command).show(true);
  try {
    const result = await ctx.ui.withProgress(`Dockyard: running "${command}" in ${task.title}`, true, (token) =>
      ctx.api.request(M.exec, { taskId: task.id, command, execId }, token),
    );
    if (result.timedOut) ctx.outputs.line(task.id, `[timed out after ${result.durationMs} ms]`);
    if (result.cancelled) ctx.outputs.line(task.id, '[cancelled]');
  } catch (error) {
    if (isRpcError(error) && error.code === ErrorCodes.REQUEST_CANCELLED) {
      ctx.outputs.line(task.id, '[cancelled]');
      return;
    }
    ctx.outputs.line(task.id, `[failed: ${isRpcError(error) ? error.message : String(error)}]`);
    throw error;
  }
}

export async function openTerminal(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Open Terminal in Task', states: ['running'] });
  if (!task) return;
  ctx.terminals.open(task);
}
