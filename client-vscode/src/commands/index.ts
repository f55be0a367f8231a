/** The command table: what each user command runs and which daemon methods it needs. The wrapper checks
 *  those methods against the daemon's `features` before any prompt, so a missing one is reported plainly
 *  (an information message naming it) instead of a button that fails. */
import type { Method } from '../protocol';
import { M } from '../protocol';
import { attachAgent, detachAgent } from './agents';
import type { Command, CommandContext } from './context';
import { checkpoint, integrate, restoreCheckpoint } from './history';
import { CMD, USER_COMMANDS } from './ids';
import { showLogs, showStatus, taskActions } from './inspect';
import { newSubtasks, ultrawork } from './plan';
import { openTerminal, runCommand } from './run';
import { runSafely } from './safe';
import { newTask, pauseResume, removeTask, stopStart } from './tasks';

interface Entry {
  run: Command;
  needs: readonly Method[];
}

export type TableId = (typeof USER_COMMANDS)[number]['id'] | typeof CMD.taskActions;

export const COMMAND_TABLE: Record<TableId, Entry> = {
  [CMD.newTask]: { run: newTask, needs: [M.createTask] },
  [CMD.newSubtasks]: { run: newSubtasks, needs: [M.getPlan, M.createSubtasks] },
  [CMD.ultrawork]: { run: ultrawork, needs: [M.runPlan] },
  [CMD.attachAgent]: { run: attachAgent, needs: [M.attachAgent] },
  [CMD.detachAgent]: { run: detachAgent, needs: [M.detachAgent] },
  [CMD.runCommand]: { run: runCommand, needs: [M.exec] },
  [CMD.openTerminal]: { run: openTerminal, needs: [M.openSession, M.sessionInput, M.resizeSession, M.closeSession] },
  [CMD.showStatus]: { run: showStatus, needs: [M.getTask] },
  [CMD.showLogs]: { run: showLogs, needs: [M.logs] },
  [CMD.pauseResume]: { run: pauseResume, needs: [M.pauseTask, M.resumeTask] },
  [CMD.stopStart]: { run: stopStart, needs: [M.stopTask, M.startTask] },
  [CMD.checkpoint]: { run: checkpoint, needs: [M.checkpointTask] },
  [CMD.restoreCheckpoint]: { run: restoreCheckpoint, needs: [M.listCheckpoints, M.restoreCheckpoint] },
  [CMD.integrate]: { run: integrate, needs: [M.integrateTask] },
  [CMD.remove]: { run: removeTask, needs: [M.removeTask] },
  [CMD.taskActions]: { run: taskActions, needs: [] },
};

function titleOf(id: TableId): string {
  return USER_COMMANDS.find((c) => c.id === id)?.title ?? 'Task Actions';
}

/** The function registered for command `id`: checks features, runs, reports every error. Never rejects. */
export function commandHandler(ctx: CommandContext, id: TableId): (arg?: unknown) => Promise<void> {
  const entry = COMMAND_TABLE[id];
  return (arg?: unknown) =>
    runSafely(ctx, async () => {
      ctx.api.require(titleOf(id), ...entry.needs);
      await entry.run(ctx, arg);
    });
}

export function tableIds(): TableId[] {
  return Object.keys(COMMAND_TABLE) as TableId[];
}
