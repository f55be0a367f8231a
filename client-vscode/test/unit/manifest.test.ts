import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_TABLE } from '../../src/commands/index';
import { CMD, USER_COMMANDS } from '../../src/commands/ids';

interface Manifest {
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string }[]>;
    views: Record<string, { id: string; name: string }[]>;
    viewsContainers: { activitybar: { id: string }[] };
    configuration: { properties: Record<string, unknown> };
  };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;

describe('package.json manifest', () => {
  it('contributes the 15 user commands with their titles, in category Dockyard', () => {
    expect(USER_COMMANDS).toHaveLength(15);
    for (const { id, title } of USER_COMMANDS) {
      expect(manifest.contributes.commands).toContainEqual(expect.objectContaining({ command: id, title, category: 'Dockyard' }));
    }
  });

  it('every contributed command is implemented, and every menu entry is a contributed command', () => {
    const contributed = manifest.contributes.commands.map((c) => c.command);
    const implemented = [...Object.keys(COMMAND_TABLE), CMD.refresh, CMD.restartServer, CMD.showServerOutput];
    expect(contributed.sort()).toEqual(implemented.sort());
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const entry of entries) expect(contributed).toContain(entry.command);
    }
  });

  it('has the Dockyard Tasks view in its own activity bar container, and the settings', () => {
    expect(manifest.contributes.viewsContainers.activitybar[0].id).toBe('dockyard');
    expect(manifest.contributes.views.dockyard).toEqual([{ id: 'dockyard.tasks', name: 'Dockyard Tasks' }]);
    expect(Object.keys(manifest.contributes.configuration.properties).sort()).toEqual(
      ['dockyard.defaultImage', 'dockyard.serverPath', 'dockyard.trace.server'].sort(),
    );
  });
});
