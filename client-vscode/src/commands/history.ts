/** Checkpoint, Restore Checkpoint, Integrate Task (feature-detected: the daemon adds them in later issues). */
import type { Checkpoint, Diff, IntegrateTaskParams } from '../protocol';
import { M } from '../protocol';
import type { PickItem } from '../ui';
import type { CommandContext } from './context';
import { resolveTask } from './pickTask';

export async function checkpoint(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Checkpoint Task', states: ['running', 'paused', 'stopped'] });
  if (!task) return;
  const label = await ctx.ui.input({
    title: `Dockyard: Checkpoint "${task.title}"`,
    prompt: 'Label (optional): container image + volume + commit + memory are captured under it',
    placeHolder: 'before refactor',
  });
  if (label === undefined) return;
  const made = await ctx.ui.withProgress(`Dockyard: checkpointing "${task.title}"…`, false, () =>
    ctx.api.request(M.checkpointTask, { taskId: task.id, ...(label.trim() ? { label: label.trim() } : {}) }),
  );
  await ctx.ui.info(`Dockyard: checkpoint ${made.label ? `"${made.label}" ` : ''}(${made.id}) of "${task.title}" saved.`);
}

interface CheckpointItem extends PickItem {
  checkpoint: Checkpoint;
}
interface RestoreModeItem extends PickItem {
  mode: 'inPlace' | 'fork';
}

export async function restoreCheckpoint(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Restore Checkpoint' });
  if (!task) return;
  const title = `Dockyard: Restore Checkpoint of "${task.title}"`;
  const listed = await ctx.api.request(M.listCheckpoints, { taskId: task.id });
  const checkpoints = Array.isArray(listed.checkpoints) ? listed.checkpoints : [];
  if (checkpoints.length === 0) {
    await ctx.ui.info(`Dockyard: task "${task.title}" has no checkpoints yet.`);
    return;
  }
  const items: CheckpointItem[] = checkpoints.map((c) => ({ label: c.label || c.id, description: c.id, detail: c.createdAt, checkpoint: c }));
  const picked = await ctx.ui.pick(items, { title, placeHolder: 'Checkpoint to restore' });
  if (!picked) return;
  const modes: RestoreModeItem[] = [
    { label: 'Fork into a new task', description: 'this task stays as it is', mode: 'fork' },
    { label: 'Restore in place', description: 'roll this task back; later changes are lost', mode: 'inPlace' },
  ];
  const mode = await ctx.ui.pick(modes, { title, placeHolder: 'Restore how?' });
  if (!mode) return;
  if (mode.mode === 'inPlace') {
    const ok = await ctx.ui.confirm(`Roll "${task.title}" back to ${picked.label}?`, 'Changes made after the checkpoint are lost.', 'Restore');
    if (ok !== 'Restore') return;
  }
  const restored = await ctx.ui.withProgress(`Dockyard: restoring ${picked.label}…`, false, () =>
    ctx.api.request(M.restoreCheckpoint, { taskId: task.id, checkpointId: picked.checkpoint.id, mode: mode.mode }),
  );
  ctx.store.apply(restored);
  await ctx.ui.info(`Dockyard: task "${restored.title}" (${restored.id}) restored from ${picked.label}.`);
}

type Strategy = NonNullable<IntegrateTaskParams['strategy']>;

interface StrategyItem extends PickItem {
  strategy: Strategy;
}

export const STRATEGIES: readonly StrategyItem[] = [
  { label: 'merge', description: 'a merge commit', strategy: 'merge' },
  { label: 'squash', description: "one commit with all the task's changes", strategy: 'squash' },
  { label: 'rebase', description: "replay the task's commits on the target", strategy: 'rebase' },
  { label: 'ff-only', description: 'only if the target has not moved', strategy: 'ff-only' },
];

export function diffSummary(diff: Diff): string {
  const files = `${diff.files.length} file${diff.files.length === 1 ? '' : 's'}`;
  return `${files} changed, +${diff.insertions} −${diff.deletions}; ${diff.ahead} commit(s) ahead of ${diff.target}, ${diff.behind} behind.`;
}

export async function integrate(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Integrate Task', states: ['running', 'paused', 'stopped', 'conflicted'] });
  if (!task) return;
  const title = `Dockyard: Integrate "${task.title}"`;
  let target = task.target ?? task.baseRef ?? 'its target branch';
  let detail = 'The result is committed in your repository.';
  if (ctx.api.supports(M.diffTask)) {
    const diff = await ctx.api.request(M.diffTask, { taskId: task.id, stat: true });
    if (diff.ahead === 0) {
      await ctx.ui.info(`Dockyard: "${task.title}" has no commits that ${diff.target} lacks; nothing to integrate.`);
      return;
    }
    target = diff.target;
    detail = `${diffSummary(diff)} ${detail}`;
  }
  const picked = await ctx.ui.pick(STRATEGIES, { title, placeHolder: `How to bring ${task.branch ?? task.id} into ${target}` });
  if (!picked) return;
  const ok = await ctx.ui.confirm(`Integrate ${task.branch ?? task.id} into ${target} (${picked.strategy})?`, detail, 'Integrate');
  if (ok !== 'Integrate') return;
  const result = await ctx.ui.withProgress(`Dockyard: integrating "${task.title}"…`, false, () =>
    ctx.api.request(M.integrateTask, { taskId: task.id, strategy: picked.strategy }),
  );
  ctx.store.apply(result.task);
  const worktree = result.updatedWorktree ? ' Your checkout of it was updated.' : '';
  await ctx.ui.info(`Dockyard: "${task.title}" integrated into ${result.target} (${result.strategy}) as ${result.commit.slice(0, 10)}.${worktree}`);
}
