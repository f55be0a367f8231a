/** Reads the packaged .vsix (a zip; run `npm run package` first) and checks what VS Code will install. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Entry, ZipFile } from 'yauzl';
import { open } from 'yauzl';
import { USER_COMMANDS } from '../../src/commands/ids';

const VSIX = join(__dirname, '..', '..', 'dockyard-vscode.vsix');

/** Every file of the zip, by name. */
function readZip(path: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    open(path, { lazyEntries: true }, (err: Error | null, zip: ZipFile) => {
      if (err) return reject(err);
      const files = new Map<string, Buffer>();
      zip.on('entry', (entry: Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr) return reject(streamErr);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => resolve(files));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

interface Manifest {
  name: string;
  version: string;
  main: string;
  contributes: { commands: { command: string; title: string; category: string }[] };
}

describe('the packaged extension (.vsix)', () => {
  it('exists (npm run package)', () => {
    expect(existsSync(VSIX), `${VSIX} is missing: run \`npm run package\` before this test`).toBe(true);
  });

  it('its manifest lists all 15 commands, and it ships the bundle and only what it needs', async () => {
    const files = await readZip(VSIX);
    const raw = files.get('extension/package.json');
    expect(raw, 'extension/package.json in the vsix').toBeDefined();
    const manifest = JSON.parse(raw!.toString('utf8')) as Manifest;
    const source = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;
    expect(manifest.version).toBe(source.version);
    const listed = manifest.contributes.commands;
    for (const { id, title } of USER_COMMANDS) {
      expect(listed).toContainEqual(expect.objectContaining({ command: id, title, category: 'Dockyard' }));
    }
    expect(listed.filter((c) => USER_COMMANDS.some((u) => u.id === c.command))).toHaveLength(15);
    expect(manifest.main).toBe('./dist/extension.js');
    const bundle = files.get('extension/dist/extension.js');
    expect(bundle?.length ?? 0).toBeGreaterThan(10_000);
    expect(files.has('extension.vsixmanifest')).toBe(true);
    const names = [...files.keys()];
    expect(names.filter((n) => n.includes('node_modules/') || n.includes('/src/') || n.endsWith('.map'))).toEqual([]);
  });
});
