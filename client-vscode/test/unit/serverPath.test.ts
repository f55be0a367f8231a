import { describe, expect, it } from 'vitest';
import type { ResolveInput } from '../../src/server/serverPath';
import { resolveServerPath } from '../../src/server/serverPath';

function input(over: Partial<ResolveInput>, present: string[]): ResolveInput {
  return {
    setting: '',
    workspaceFolder: '/ws',
    pathEnv: '/usr/local/bin:/usr/bin',
    platform: 'linux',
    home: '/home/me',
    isExecutable: (f) => present.includes(f),
    ...over,
  };
}

describe('server path', () => {
  it('prefers dockyard on PATH, then <workspace>/.venv/bin/dockyard', () => {
    expect(resolveServerPath(input({}, ['/usr/bin/dockyard', '/ws/.venv/bin/dockyard']))).toEqual({ path: '/usr/bin/dockyard', source: 'PATH' });
    expect(resolveServerPath(input({}, ['/ws/.venv/bin/dockyard']))).toEqual({ path: '/ws/.venv/bin/dockyard', source: 'venv' });
    expect(resolveServerPath(input({}, []))).toEqual({ path: undefined, tried: ['dockyard (on PATH)', '/ws/.venv/bin/dockyard'] });
  });

  it('the setting wins, with ${workspaceFolder}, ~ and relative paths resolved', () => {
    const present = ['/ws/tools/dockyard', '/home/me/bin/dockyard', '/opt/d/dockyard'];
    expect(resolveServerPath(input({ setting: '${workspaceFolder}/tools/dockyard' }, present)).path).toBe('/ws/tools/dockyard');
    expect(resolveServerPath(input({ setting: '~/bin/dockyard' }, present)).path).toBe('/home/me/bin/dockyard');
    expect(resolveServerPath(input({ setting: 'tools/dockyard' }, present)).path).toBe('/ws/tools/dockyard');
    expect(resolveServerPath(input({ setting: '/opt/d/dockyard' }, present))).toEqual({ path: '/opt/d/dockyard', source: 'setting' });
    expect(resolveServerPath(input({ setting: '/nope/dockyard' }, present))).toEqual({ path: undefined, tried: ['/nope/dockyard'] });
  });

  it('a bare name in the setting is looked up on PATH', () => {
    expect(resolveServerPath(input({ setting: 'dockyard-dev' }, ['/usr/local/bin/dockyard-dev'])).path).toBe('/usr/local/bin/dockyard-dev');
  });
});
