import { describe, expect, it } from 'vitest';
import { NotSupportedError, OfflineError } from '../../src/api';
import { commandHandler, COMMAND_TABLE, tableIds } from '../../src/commands/index';
import { CMD } from '../../src/commands/ids';
import { M } from '../../src/protocol';
import { harness, task, TODAY } from '../helpers';

/** Commands whose daemon methods are not implemented today, and the methods each must name. */
const NOT_YET: [string, string[]][] = [
  [CMD.newSubtasks, [M.getPlan, M.createSubtasks]],
  [CMD.ultrawork, [M.runPlan]],
  [CMD.attachAgent, [M.attachAgent]],
  [CMD.detachAgent, [M.detachAgent]],
  [CMD.checkpoint, [M.checkpointTask]],
  [CMD.restoreCheckpoint, [M.listCheckpoints, M.restoreCheckpoint]],
];

describe('feature detection', () => {
  it.each(NOT_YET)('%s says plainly which method the daemon lacks, before any prompt', async (id, methods) => {
    const h = harness({ tasks: [task({ id: 't-aaaaaa' })] });
    await commandHandler(h.ctx, id as keyof typeof COMMAND_TABLE)('t-aaaaaa');
    expect(h.ui.infos).toHaveLength(1);
    for (const method of methods) expect(h.ui.infos[0]).toContain(`\`${method}\``);
    expect(h.ui.infos[0]).toContain('does not support');
    expect(h.ui.infos[0]).toContain('0.1.0');
    expect(h.ui.prompts).toEqual([]);
    expect(h.transport.sent).toEqual([]);
    expect(h.ui.errors).toEqual([]);
  });

  it('every command that the daemon supports today passes the check', () => {
    const h = harness();
    const supported = tableIds().filter((id) => COMMAND_TABLE[id].needs.every((m) => h.api.supports(m)));
    expect(supported.sort()).toEqual(
      [
        CMD.newTask, CMD.runCommand, CMD.openTerminal, CMD.showStatus, CMD.showLogs, CMD.pauseResume, CMD.stopStart,
        CMD.integrate, CMD.remove, CMD.taskActions,
      ].sort(),
    );
  });

  it('Integrate works without diffTask (no preview) but not without integrateTask', async () => {
    const h = harness({ tasks: [task({ id: 't-aaaaaa' })], caps: { ...TODAY, features: TODAY.features.filter((f) => f !== M.integrateTask) } });
    await commandHandler(h.ctx, CMD.integrate)('t-aaaaaa');
    expect(h.ui.infos[0]).toContain('`dockyard/integrateTask`');
    expect(h.ui.infos[0]).not.toContain('diffTask');
  });

  it('names only the missing methods when some are there', () => {
    const h = harness({ caps: { ...TODAY, features: [...TODAY.features, M.listCheckpoints] } });
    expect(() => h.api.require('Restore Checkpoint', M.listCheckpoints, M.restoreCheckpoint)).toThrowError(
      /`dockyard\/restoreCheckpoint`/,
    );
    try {
      h.api.require('Restore Checkpoint', M.listCheckpoints, M.restoreCheckpoint);
    } catch (error) {
      expect(error).toBeInstanceOf(NotSupportedError);
      expect((error as NotSupportedError).missing).toEqual([M.restoreCheckpoint]);
    }
  });

  it('request() refuses an unsupported method without sending it', async () => {
    const h = harness();
    await expect(h.api.request(M.attachAgent, { taskId: 't-1', agent: 'shell' })).rejects.toBeInstanceOf(NotSupportedError);
    expect(h.transport.sent).toEqual([]);
  });

  it('a command while the daemon is down offers a restart instead of failing', async () => {
    const h = harness({ connected: false });
    h.ui.buttons.push('Restart Server');
    await commandHandler(h.ctx, CMD.newTask)();
    expect(h.ui.errors[0]).toContain('not running');
    expect(h.ui.errors[0]).toContain('dockyard.serverPath');
    expect(h.executed).toEqual([{ command: CMD.restartServer, args: [] }]);
    await expect(h.api.request(M.listTasks, {})).rejects.toBeInstanceOf(OfflineError);
  });

  it('once the daemon implements a method the command runs its flow', async () => {
    const h = harness({
      tasks: [task({ id: 't-aaaaaa' })],
      caps: { ...TODAY, features: [...TODAY.features, M.checkpointTask] },
      answers: ['before refactor'],
    });
    h.transport.on(M.checkpointTask, () => ({ id: 'c-1', label: 'before refactor' }));
    await commandHandler(h.ctx, CMD.checkpoint)('t-aaaaaa');
    expect(h.transport.sent).toEqual([{ method: M.checkpointTask, params: { taskId: 't-aaaaaa', label: 'before refactor' } }]);
    expect(h.ui.infos[0]).toContain('c-1');
  });
});
