/** Attach Agent / Detach Agent (daemon methods attachAgent / detachAgent; feature-detected). */
import { M } from '../protocol';
import type { PickItem } from '../ui';
import type { CommandContext } from './context';
import { LIVE, resolveTask } from './pickTask';

/** Agent profiles named in DESIGN §1; "Other…" takes any profile name the workspace defines. */
export const KNOWN_AGENTS = ['opencode', 'claude-code', 'aider', 'codex', 'shell'] as const;
const OTHER = 'Other…';

async function pickAgent(ctx: CommandContext, title: string): Promise<string | undefined> {
  const items: PickItem[] = [...KNOWN_AGENTS.map((label) => ({ label })), { label: OTHER, description: 'a profile from .dockyard/config.toml' }];
  const picked = await ctx.ui.pick(items, { title, placeHolder: 'Agent profile' });
  if (!picked) return undefined;
  if (picked.label !== OTHER) return picked.label;
  const name = await ctx.ui.input({ title, prompt: 'Agent profile name', validateInput: (v) => (v.trim() ? undefined : 'Type a name.') });
  return name?.trim();
}

interface ModeItem extends PickItem {
  headless: boolean;
}

export async function attachAgent(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Attach Agent', states: ['running'] });
  if (!task) return;
  const title = `Dockyard: Attach Agent to "${task.title}"`;
  const agent = await pickAgent(ctx, title);
  if (!agent) return;
  const modes: ModeItem[] = [
    { label: 'Interactive', description: 'opens a terminal on the agent', headless: false },
    { label: 'Headless', description: 'runs unattended on a prompt', headless: true },
  ];
  const mode = await ctx.ui.pick(modes, { title, placeHolder: 'How should the agent run?' });
  if (!mode) return;
  let prompt: string | undefined;
  if (mode.headless) {
    prompt = await ctx.ui.input({ title, prompt: 'Prompt for the agent', validateInput: (v) => (v.trim() ? undefined : 'Type a prompt.') });
    if (prompt === undefined) return;
  }
  const session = await ctx.api.request(M.attachAgent, {
    taskId: task.id,
    agent,
    headless: mode.headless,
    ...(prompt !== undefined ? { prompt } : {}),
  });
  if (mode.headless) {
    await ctx.ui.info(`Dockyard: ${agent} is running headless in "${task.title}" (session ${session.sessionId}).`);
  } else {
    ctx.terminals.open(task, { sessionId: session.sessionId, name: `${agent} · ${task.title}` });
  }
}

export async function detachAgent(ctx: CommandContext, arg?: unknown): Promise<void> {
  const task = await resolveTask(ctx, arg, { action: 'Detach Agent', states: LIVE });
  if (!task) return;
  const agent = await pickAgent(ctx, `Dockyard: Detach Agent from "${task.title}"`);
  if (!agent) return;
  await ctx.api.request(M.detachAgent, { taskId: task.id, agent });
  await ctx.ui.info(`Dockyard: ${agent} detached from "${task.title}".`);
}
