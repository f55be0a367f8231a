import { describe, expect, it } from 'vitest';
import type { TaskStatus } from '../../src/protocol';
import { formatBytes, renderTaskStatus } from '../../src/views/statusDoc';
import { task } from '../helpers';

const status: TaskStatus = {
  task: task({ id: 't-00000a', title: 'fix | parser', branch: 'dockyard/fix-parser-t-00000a', baseRef: 'main' }),
  stats: {
    cpuPercent: 12.345,
    memoryBytes: 50 * 1024 * 1024,
    memoryLimitBytes: 2048 * 1024 * 1024,
    memoryPercent: 2.44,
    pids: 7,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 2048,
    blockWriteBytes: 0,
  },
  git: { ahead: 2, behind: 1 },
  top: { titles: ['PID', 'CMD'], processes: [['1', 'sleep']] },
};

describe('status document', () => {
  it('renders state, branch with ahead/behind, resources with usage, processes', () => {
    const md = renderTaskStatus(status, { checkpoints: { kind: 'unsupported' } }, new Date('2026-01-01T00:00:00Z'));
    expect(md).toContain('# fix | parser');
    expect(md).toContain('`t-00000a` · **running**');
    expect(md).toContain('| Branch | dockyard/fix-parser-t-00000a (ahead 2, behind 1) |');
    expect(md).toContain('| Memory | 2048 MiB | 50.0 MiB (2.4 %) |');
    expect(md).toContain('| CPUs | 1 | 12.3 % |');
    expect(md).toContain('| PIDs | 512 | 7 |');
    expect(md).toContain('| 1 | sleep |');
    expect(md).toContain('does not support checkpoints yet (`dockyard/listCheckpoints`)');
  });

  it('without stats says so; checkpoints are listed when supported', () => {
    const md = renderTaskStatus(
      { task: task({ id: 't-00000b', state: 'stopped' }) },
      { checkpoints: { kind: 'list', checkpoints: [{ id: 'c-1', label: 'green', createdAt: '2026-01-02' }] } },
      new Date(),
    );
    expect(md).toContain('_No live stats (the container is not running)._');
    expect(md).toContain('| `c-1` | green | 2026-01-02 |');
    expect(md).not.toContain('## Git');
  });

  it('ahead/behind and changed files come from diffTask when given', () => {
    const diff = {
      taskId: 't-00000a', branch: 'dockyard/fix', target: 'main', base: 'abcdef1234567', head: '1234567abcdef',
      ahead: 3, behind: 0, insertions: 10, deletions: 2,
      files: [{ path: 'src/a.py', insertions: 10, deletions: 2 }, { path: 'logo.png', insertions: null, deletions: null }],
    };
    const md = renderTaskStatus({ task: task({ id: 't-00000a', branch: 'dockyard/fix' }) }, { checkpoints: { kind: 'unsupported' }, diff }, new Date());
    expect(md).toContain('| Branch | dockyard/fix (ahead 3, behind 0 vs main) |');
    expect(md).toContain('2 file(s), +10 −2 against `main` (merge base `abcdef1234`)');
    expect(md).toContain('| `src/a.py` | 10 | 2 |');
    expect(md).toContain('| `logo.png` | binary | binary |');
  });

  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
