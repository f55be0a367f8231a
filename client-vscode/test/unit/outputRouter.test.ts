import { describe, expect, it } from 'vitest';
import { OutputRouter } from '../../src/io/outputRouter';
import { FakeChannel } from '../helpers';

function router(): { router: OutputRouter; channels: Map<string, FakeChannel> } {
  const channels = new Map<string, FakeChannel>();
  const titles: Record<string, string> = { 't-000001': 'parser', 't-000002': 'lexer' };
  const r = new OutputRouter(
    (name) => {
      const c = new FakeChannel(name);
      channels.set(name, c);
      return c;
    },
    (id) => titles[id],
  );
  return { router: r, channels };
}

describe('output routing', () => {
  it('one channel per task, output by taskId, exits by execId', () => {
    const { router: r, channels } = router();
    r.beginExec('t-000001', 'x-a', 'make');
    r.onOutput({ taskId: 't-000001', execId: 'x-a', stream: 'stdout', data: 'building\n', seq: 1 });
    r.onOutput({ taskId: 't-000002', execId: 'x-b', stream: 'stderr', data: 'lex error', seq: 1 });
    r.onOutput({ taskId: 't-000001', execId: 'x-a', stream: 'stderr', data: 'warn\n', seq: 2 });
    r.onExecExited({ execId: 'x-b', exitCode: 2 });
    r.onExecExited({ execId: 'x-a', exitCode: 0 });
    expect([...channels.keys()]).toEqual(['Dockyard: parser (t-000001)', 'Dockyard: lexer (t-000002)']);
    expect(channels.get('Dockyard: parser (t-000001)')?.text).toBe('$ make\nbuilding\nwarn\n[exit code 0]\n');
    expect(channels.get('Dockyard: lexer (t-000002)')?.text).toBe('lex error\n[exit code 2]\n');
    expect(r.taskOfExec('x-a')).toBeUndefined();
  });

  it('an exit for an exec it never saw is ignored', () => {
    const { router: r, channels } = router();
    r.onExecExited({ execId: 'x-zzz', exitCode: 1 });
    expect(channels.size).toBe(0);
  });

  it('an unknown task gets a channel named by its id; logs are framed and shown', () => {
    const { router: r, channels } = router();
    r.showLogs('t-00000f', 'line\n', 50);
    const c = channels.get('Dockyard: t-00000f');
    expect(c?.text).toBe('── container logs (last 50 lines) ──\nline\n── end of logs ──\n');
    expect(c?.shown).toBe(1);
  });
});
