/** Where `dockyard` is: the setting, else `dockyard` on PATH, else `<workspace>/.venv/bin/dockyard`. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ResolveInput {
  setting: string | undefined;
  workspaceFolder: string | undefined;
  pathEnv: string | undefined;
  platform: NodeJS.Platform;
  home: string;
  isExecutable: (file: string) => boolean;
}

export type Resolved = { path: string; source: 'setting' | 'PATH' | 'venv' } | { path: undefined; tried: string[] };

function exeNames(name: string, platform: NodeJS.Platform): string[] {
  return platform === 'win32' ? [`${name}.exe`, `${name}.cmd`, name] : [name];
}

function searchPath(name: string, input: ResolveInput): string | undefined {
  const sep = input.platform === 'win32' ? ';' : ':';
  for (const dir of (input.pathEnv ?? '').split(sep).filter(Boolean)) {
    for (const exe of exeNames(name, input.platform)) {
      const candidate = path.join(dir, exe);
      if (input.isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function expand(value: string, input: ResolveInput): string {
  let out = value.replace(/\$\{workspaceFolder\}/g, input.workspaceFolder ?? '');
  if (out === '~' || out.startsWith('~/')) out = path.join(input.home, out.slice(1));
  return out;
}

export function resolveServerPath(input: ResolveInput): Resolved {
  const setting = input.setting?.trim();
  if (setting) {
    const expanded = expand(setting, input);
    if (!expanded.includes('/') && !expanded.includes('\\')) {
      const found = searchPath(expanded, input);
      return found ? { path: found, source: 'setting' } : { path: undefined, tried: [`${expanded} (on PATH)`] };
    }
    const absolute = path.isAbsolute(expanded) || !input.workspaceFolder ? expanded : path.join(input.workspaceFolder, expanded);
    return input.isExecutable(absolute) ? { path: absolute, source: 'setting' } : { path: undefined, tried: [absolute] };
  }
  const onPath = searchPath('dockyard', input);
  if (onPath) return { path: onPath, source: 'PATH' };
  const tried = ['dockyard (on PATH)'];
  if (input.workspaceFolder) {
    const venv =
      input.platform === 'win32'
        ? path.join(input.workspaceFolder, '.venv', 'Scripts', 'dockyard.exe')
        : path.join(input.workspaceFolder, '.venv', 'bin', 'dockyard');
    if (input.isExecutable(venv)) return { path: venv, source: 'venv' };
    tried.push(venv);
  }
  return { path: undefined, tried };
}

export function isExecutableFile(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function defaultResolveInput(setting: string | undefined, workspaceFolder: string | undefined): ResolveInput {
  return {
    setting,
    workspaceFolder,
    pathEnv: process.env.PATH,
    platform: process.platform,
    home: os.homedir(),
    isExecutable: isExecutableFile,
  };
}
