import { describe, expect, it } from 'vitest';
import { ProgressTracker } from '../../src/io/progress';
import type { StatusBarItemLike } from '../../src/views/statusBar';
import { StatusBarController, statusView } from '../../src/views/statusBar';

class FakeItem implements StatusBarItemLike {
  text = '';
  tooltip: string | { value: string } | undefined;
  command: string | { command: string } | undefined;
  visible = false;
  show(): void {
    this.visible = true;
  }
}

describe('status bar', () => {
  it('shows running / paused / failed from the counts', () => {
    const view = statusView({ creating: 0, running: 2, paused: 1, stopped: 4, failed: 0 }, []);
    expect(view.text).toBe('$(package) 2 running · 1 paused · 0 failed');
    expect(view.tooltip).toContain('2 running, 1 paused, 4 stopped');
    expect(view.tooltip).toContain('Click for task actions');
  });

  it('missing states count as zero; offline says so', () => {
    expect(statusView({}, []).text).toBe('$(package) 0 running · 0 paused · 0 failed');
    expect(statusView(undefined, [], 'ENOENT').tooltip).toContain('not running: ENOENT');
  });

  it('spins while $/progress work runs and stops at its end', () => {
    const progress = new ProgressTracker();
    const item = new FakeItem();
    const bar = new StatusBarController(item, progress, 'dockyard.task.actions');
    expect(item.command).toBe('dockyard.task.actions');
    expect(item.visible).toBe(true);
    bar.setOffline(undefined);
    bar.setCounts({ running: 1, failed: 2 });
    expect(item.text).toBe('$(package) 1 running · 0 paused · 2 failed');
    progress.handle('tok-1', { kind: 'begin', title: 'Building image' });
    progress.handle('tok-1', { kind: 'report', message: 'step 3/7', percentage: 40 });
    expect(item.text).toBe('$(sync~spin) 1 running · 0 paused · 2 failed');
    expect(item.tooltip).toContain('Building image: step 3/7 (40%)');
    progress.handle(7, { kind: 'begin', title: 'Checkpoint' });
    progress.handle('tok-1', { kind: 'end' });
    expect(item.text.startsWith('$(sync~spin)')).toBe(true);
    progress.handle(7, { kind: 'end' });
    expect(item.text).toBe('$(package) 1 running · 0 paused · 2 failed');
  });

  it('progress ignores reports and ends for unknown tokens; clear() stops the spinner', () => {
    const progress = new ProgressTracker();
    let changes = 0;
    progress.onDidChange(() => (changes += 1));
    progress.handle('x', { kind: 'report', message: 'm' });
    progress.handle('x', { kind: 'end' });
    expect(changes).toBe(0);
    progress.handle('y', { kind: 'begin', title: 't' });
    progress.clear();
    expect(progress.busy).toBe(false);
    expect(changes).toBe(2);
  });
});
