import { describe, expect, it } from 'vitest';
import { commandHandler } from '../../src/commands/index';
import { CMD } from '../../src/commands/ids';
import { actionsFor } from '../../src/commands/inspect';
import { resolveTask, taskIdOf } from '../../src/commands/pickTask';
import { validateTitle } from '../../src/commands/tasks';
import { M } from '../../src/protocol';
import { harness, task, TODAY } from '../helpers';

const running = task({ id: 't-000001', title: 'parser', state: 'running', createdAt: '2026-01-01T00:00:01Z' });
const paused = task({ id: 't-000002', title: 'lexer', state: 'paused', createdAt: '2026-01-01T00:00:02Z' });
const stopped = task({ id: 't-000003', title: 'docs', state: 'stopped', createdAt: '2026-01-01T00:00:03Z' });

describe('task picking', () => {
  it('takes the task from a tree node, an id, or {taskId}', () => {
    expect(taskIdOf({ task: running, children: [] })).toBe(running.id);
    expect(taskIdOf('t-000002')).toBe('t-000002');
    expect(taskIdOf({ taskId: 't-000003' })).toBe('t-000003');
    expect(taskIdOf(undefined)).toBeUndefined();
  });

  it('offers only tasks in the wanted states', async () => {
    const h = harness({ tasks: [running, paused, stopped], answers: ['lexer'] });
    const picked = await resolveTask(h.ctx, undefined, { action: 'Pause/Resume Task', states: ['running', 'paused'] });
    expect(picked?.id).toBe(paused.id);
    expect(h.ui.prompts[0].items).toHaveLength(2);
    expect(h.ui.prompts[0].items?.join()).not.toContain('docs');
  });

  it('says so when no task qualifies, and when the given one is in the wrong state', async () => {
    const h = harness({ tasks: [stopped] });
    expect(await resolveTask(h.ctx, undefined, { action: 'Run Command in Task', states: ['running'] })).toBeUndefined();
    expect(h.ui.infos[0]).toMatch(/no running tasks/);
    expect(await resolveTask(h.ctx, stopped.id, { action: 'Open Terminal in Task', states: ['running'] })).toBeUndefined();
    expect(h.ui.infos[1]).toContain('is stopped; it must be running');
  });

  it('cancelling the pick does nothing', async () => {
    const h = harness({ tasks: [running], answers: [undefined] });
    await commandHandler(h.ctx, CMD.runCommand)();
    expect(h.transport.sent).toEqual([]);
    expect(h.ui.errors).toEqual([]);
  });
});

describe('New Task', () => {
  it('asks for title and image, creates the task and offers next steps', async () => {
    const h = harness({ answers: ['  fix the parser ', 'dockyard/testbox:0.1.0'] });
    h.ui.buttons.push('Open Terminal');
    h.transport.on(M.createTask, (p) => task({ id: 't-00000a', title: (p as { title: string }).title }));
    await commandHandler(h.ctx, CMD.newTask)();
    expect(h.transport.sent).toEqual([{ method: M.createTask, params: { title: 'fix the parser', image: 'dockyard/testbox:0.1.0' } }]);
    expect(h.store.get('t-00000a')?.title).toBe('fix the parser');
    expect(h.ui.infos[0]).toContain('t-00000a');
    expect(h.executed).toEqual([{ command: CMD.openTerminal, args: ['t-00000a'] }]);
  });

  it('empty image means the workspace default; from a task node it makes a subtask', async () => {
    const h = harness({ tasks: [running], answers: ['child', ''] });
    h.transport.on(M.createTask, () => task({ id: 't-00000b', parentId: running.id }));
    await commandHandler(h.ctx, CMD.newTask)({ task: running, children: [] });
    expect(h.transport.sent[0].params).toEqual({ title: 'child', parentId: running.id });
  });

  it('the title box refuses empty and over-long titles', () => {
    expect(validateTitle('   ')).toBe('A task needs a title.');
    expect(validateTitle('x'.repeat(201))).toBe('At most 200 characters.');
    expect(validateTitle('ok')).toBeUndefined();
  });

  it('cancelling the image prompt creates nothing', async () => {
    const h = harness({ answers: ['title', undefined] });
    await commandHandler(h.ctx, CMD.newTask)();
    expect(h.transport.sent).toEqual([]);
  });

  it('shows the daemon refusal with the field it names (-32015)', async () => {
    const h = harness({ answers: ['x', 'evil:latest'] });
    h.transport.on(M.createTask, () => {
      throw { code: -32015, message: 'refused by policy: image: not in allowed_images', data: { field: 'image', reason: 'no' } };
    });
    await commandHandler(h.ctx, CMD.newTask)();
    expect(h.ui.errors).toEqual(['Dockyard: refused by policy: image: not in allowed_images (field: image)']);
  });
});

describe('lifecycle', () => {
  it('Pause/Resume pauses a running task and resumes a paused one', async () => {
    const h = harness({ tasks: [running, paused] });
    h.transport.on(M.pauseTask, () => ({ ...running, state: 'paused', revision: 2 }));
    h.transport.on(M.resumeTask, () => ({ ...paused, state: 'running', revision: 2 }));
    await commandHandler(h.ctx, CMD.pauseResume)(running.id);
    await commandHandler(h.ctx, CMD.pauseResume)(paused.id);
    expect(h.transport.sent).toEqual([
      { method: M.pauseTask, params: { taskId: running.id } },
      { method: M.resumeTask, params: { taskId: paused.id } },
    ]);
    expect(h.store.get(running.id)?.state).toBe('paused');
  });

  it('Stop/Start stops a live task and starts a stopped one', async () => {
    const h = harness({ tasks: [running, stopped] });
    h.transport.on(M.stopTask, () => ({ ...running, state: 'stopped', revision: 2 }));
    h.transport.on(M.startTask, () => ({ ...stopped, state: 'running', revision: 2 }));
    await commandHandler(h.ctx, CMD.stopStart)(running.id);
    await commandHandler(h.ctx, CMD.stopStart)(stopped.id);
    expect(h.transport.methods()).toEqual([M.stopTask, M.startTask]);
  });

  it('Remove asks first; a running task is removed with force', async () => {
    const h = harness({ tasks: [running], answers: ['Remove'] });
    h.transport.on(M.removeTask, () => ({ removed: true }));
    await commandHandler(h.ctx, CMD.remove)(running.id);
    expect(h.ui.prompts[0]).toMatchObject({ kind: 'confirm' });
    expect(h.transport.sent[0].params).toEqual({ taskId: running.id, force: true, deleteBranch: false });
    expect(h.store.get(running.id)).toBeUndefined();
  });

  it('Remove cancelled at the confirmation sends nothing', async () => {
    const h = harness({ tasks: [stopped], answers: [undefined] });
    await commandHandler(h.ctx, CMD.remove)(stopped.id);
    expect(h.transport.sent).toEqual([]);
  });
});

describe('Run Command / Open Terminal / Logs / Status', () => {
  it('runs the command with a client-chosen execId and announces it in the task channel', async () => {
    const h = harness({ tasks: [running], answers: ['parser', 'make test'] });
    h.transport.on(M.exec, () => ({ execId: 'x-id1', exitCode: 0, durationMs: 5, truncated: false }));
    await commandHandler(h.ctx, CMD.runCommand)();
    expect(h.transport.sent).toEqual([{ method: M.exec, params: { taskId: running.id, command: 'make test', execId: 'x-id1' } }]);
    const channel = [...h.channels.values()][0];
    expect(channel.name).toBe('Dockyard: parser (t-000001)');
    expect(channel.text).toBe('$ make test\n');
    expect(channel.shown).toBe(1);
  });

  it('a cancelled exec is noted in the channel, not shown as an error', async () => {
    const h = harness({ tasks: [running], answers: ['sleep 100'] });
    h.transport.on(M.exec, () => {
      throw { code: -32800, message: 'dockyard/exec cancelled' };
    });
    await commandHandler(h.ctx, CMD.runCommand)(running.id);
    expect([...h.channels.values()][0].text).toContain('[cancelled]');
    expect(h.ui.errors).toEqual([]);
  });

  it('Open Terminal opens a terminal on the task', async () => {
    const h = harness({ tasks: [running, stopped], answers: ['parser'] });
    await commandHandler(h.ctx, CMD.openTerminal)();
    expect(h.terminals.map((t) => t.task.id)).toEqual([running.id]);
  });

  it('Show Logs puts the tail in the task channel', async () => {
    const h = harness({ tasks: [stopped] });
    h.transport.on(M.logs, () => ({ text: 'hello\n' }));
    await commandHandler(h.ctx, CMD.showLogs)(stopped.id);
    expect(h.transport.sent[0].params).toEqual({ taskId: stopped.id, tail: 500 });
    expect([...h.channels.values()][0].text).toContain('hello\n── end of logs ──');
  });

  it('Show Task Status opens the status document', async () => {
    const h = harness({ tasks: [running] });
    await commandHandler(h.ctx, CMD.showStatus)({ task: running, children: [] });
    expect(h.docs).toEqual([running.id]);
  });

  it('the status bar click offers the actions that fit the state', async () => {
    expect(actionsFor('running').map((a) => a.label)).toContain('$(debug-pause) Pause Task');
    expect(actionsFor('paused').map((a) => a.label)).toContain('$(debug-continue) Resume Task');
    expect(actionsFor('stopped').map((a) => a.label)).not.toContain('$(terminal) Open Terminal in Task');
    const h = harness({ tasks: [running], answers: ['parser', 'Open Terminal'] });
    await commandHandler(h.ctx, CMD.taskActions)();
    expect(h.executed).toEqual([{ command: CMD.openTerminal, args: [running.id] }]);
  });
});

const diff = (ahead: number) => ({
  taskId: 't-000001', branch: 'dockyard/parser', target: 'main', base: 'b'.repeat(40), head: 'h'.repeat(40),
  ahead, behind: 1, insertions: 5, deletions: 1, files: [{ path: 'a.py', insertions: 5, deletions: 1 }],
});

describe('Integrate Task (diffTask + integrateTask, in the daemon since the git layer)', () => {
  const withBranch = { ...running, branch: 'dockyard/parser', target: 'main' };

  it('previews the diff, asks for the strategy, integrates and applies the returned task', async () => {
    const h = harness({ tasks: [withBranch], answers: ['squash', 'Integrate'] });
    h.transport.on(M.diffTask, () => diff(2));
    h.transport.on(M.integrateTask, () => ({
      commit: 'c0ffee1234567890', previous: 'p', strategy: 'squash', target: 'main', updatedWorktree: true,
      task: { ...withBranch, state: 'integrated', revision: 5 },
    }));
    await commandHandler(h.ctx, CMD.integrate)(withBranch.id);
    expect(h.transport.sent).toEqual([
      { method: M.diffTask, params: { taskId: withBranch.id, stat: true } },
      { method: M.integrateTask, params: { taskId: withBranch.id, strategy: 'squash' } },
    ]);
    expect(h.ui.prompts[1]).toMatchObject({ kind: 'confirm', text: 'Integrate dockyard/parser into main (squash)?' });
    expect(h.store.get(withBranch.id)?.state).toBe('integrated');
    expect(h.ui.infos[0]).toContain('as c0ffee1234');
    expect(h.ui.infos[0]).toContain('checkout of it was updated');
  });

  it('shows merge conflicts with their files (-32017)', async () => {
    const h = harness({ tasks: [withBranch], answers: ['merge', 'Integrate'] });
    h.transport.on(M.diffTask, () => diff(1));
    h.transport.on(M.integrateTask, () => {
      throw { code: -32017, message: 'merge conflict', data: { files: ['a.py', 'b.py'] } };
    });
    await commandHandler(h.ctx, CMD.integrate)(withBranch.id);
    expect(h.ui.errors).toEqual(['Dockyard: merge conflict; conflicting files: a.py, b.py']);
  });

  it('says there is nothing to integrate when the branch is not ahead', async () => {
    const h = harness({ tasks: [withBranch] });
    h.transport.on(M.diffTask, () => diff(0));
    await commandHandler(h.ctx, CMD.integrate)(withBranch.id);
    expect(h.ui.infos[0]).toContain('nothing to integrate');
    expect(h.transport.methods()).toEqual([M.diffTask]);
  });
});

describe('future commands once supported', () => {
  const all = { ...TODAY, features: [...TODAY.features, M.attachAgent, M.listCheckpoints, M.restoreCheckpoint, M.getPlan, M.createSubtasks] };

  it('Attach Agent (interactive) bridges the returned session to a terminal', async () => {
    const h = harness({ tasks: [running], caps: all, answers: ['claude-code', 'Interactive'] });
    h.transport.on(M.attachAgent, () => ({ sessionId: 's-1', taskId: running.id, command: ['claude'], cols: 80, rows: 24, state: 'open' }));
    await commandHandler(h.ctx, CMD.attachAgent)(running.id);
    expect(h.transport.sent[0].params).toEqual({ taskId: running.id, agent: 'claude-code', headless: false });
    expect(h.terminals[0].options).toEqual({ sessionId: 's-1', name: `claude-code · ${running.title}` });
  });

  it('Restore Checkpoint picks a checkpoint and a mode', async () => {
    const h = harness({ tasks: [running], caps: all, answers: ['green', 'Fork'] });
    h.transport.on(M.listCheckpoints, () => ({ checkpoints: [{ id: 'c-1', label: 'green' }] }));
    h.transport.on(M.restoreCheckpoint, () => task({ id: 't-00000f', title: 'fork' }));
    await commandHandler(h.ctx, CMD.restoreCheckpoint)(running.id);
    expect(h.transport.sent[1].params).toEqual({ taskId: running.id, checkpointId: 'c-1', mode: 'fork' });
    expect(h.store.get('t-00000f')).toBeDefined();
  });

  it('New Subtasks offers the open plan items', async () => {
    const h = harness({ tasks: [running], caps: all, answers: [['lexer']] });
    h.transport.on(M.getPlan, () => ({ items: [{ text: 'lexer', done: false }, { text: 'done one', done: true }] }));
    h.transport.on(M.createSubtasks, () => ({ tasks: [task({ id: 't-0000aa', parentId: running.id })] }));
    await commandHandler(h.ctx, CMD.newSubtasks)(running.id);
    expect(h.ui.prompts[0].items).toEqual(['lexer']);
    expect(h.transport.sent[1].params).toEqual({ taskId: running.id, items: ['lexer'] });
  });
});
