/** New Subtasks from Plan and Ultrawork (getPlan / createSubtasks / runPlan / cancelRun; feature-detected). */
import type { PlanItem } from '../protocol';
import { M } from '../protocol';
import type { PickItem } from '../ui';
import type { CommandContext } from './context';
import { resolveTask } from './pickTask';

interface PlanPick extends PickItem {
  item: PlanItem;
}

export async function newSubtasks(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'New Subtasks from Plan' });
  if (!task) return;
  const plan = await ctx.api.request(M.getPlan, { taskId: task.id });
  const open = (Array.isArray(plan.items) ? plan.items : []).filter((i) => !i.done && !i.taskId);
  if (open.length === 0) {
    await ctx.ui.info(`Dockyard: the plan of "${task.title}" has no open items without a subtask.`);
    return;
  }
  const items: PlanPick[] = open.map((item) => ({ label: item.text, picked: true, item }));
  const chosen = await ctx.ui.pickMany(items, { title: `Dockyard: Subtasks of "${task.title}"`, placeHolder: 'Plan items that become subtasks' });
  if (!chosen || chosen.length === 0) return;
  const created = await ctx.ui.withProgress(`Dockyard: creating ${chosen.length} subtask(s)…`, false, () =>
    ctx.api.request(M.createSubtasks, { taskId: task.id, items: chosen.map((c) => c.item.text) }),
  );
  const tasks = Array.isArray(created.tasks) ? created.tasks : [];
  tasks.forEach((t) => ctx.store.apply(t));
  await ctx.ui.info(`Dockyard: ${tasks.length} subtask(s) of "${task.title}" created.`);
}

interface ParallelItem extends PickItem {
  value: number;
}

export async function ultrawork(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Ultrawork (Run Plan)', states: ['running'] });
  if (!task) return;
  const title = `Dockyard: Ultrawork on "${task.title}"`;
  const parallel: ParallelItem[] = [1, 2, 3, 4].map((n) => ({ label: String(n), description: n === 1 ? 'one subtask at a time' : `${n} subtasks at once`, value: n }));
  const maxParallel = await ctx.ui.pick(parallel, { title, placeHolder: 'How many subtasks may run at once?' });
  if (!maxParallel) return;
  const verify = await ctx.ui.input({
    title,
    prompt: 'Verify command run before an item counts as done (optional)',
    placeHolder: 'make test',
  });
  if (verify === undefined) return;
  const run = await ctx.api.request(M.runPlan, {
    taskId: task.id,
    maxParallel: maxParallel.value,
    ...(verify.trim() ? { verifyCommand: verify.trim() } : {}),
  });
  const canCancel = ctx.api.supports(M.cancelRun);
  const choice = await ctx.ui.info(
    `Dockyard: ultrawork started on "${task.title}" (run ${run.runId}); subtasks appear in the Dockyard Tasks view.`,
    ...(canCancel ? ['Cancel Run'] : []),
  );
  if (choice === 'Cancel Run') {
    await ctx.api.request(M.cancelRun, { runId: run.runId });
    await ctx.ui.info(`Dockyard: run ${run.runId} cancelled.`);
  }
}
