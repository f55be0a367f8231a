/** "Show Task Status": a read-only markdown document rendered from getTask (+ checkpoints when supported). */
import type { Checkpoint, Diff, InspectSummary, Stats, TaskStatus, TopResult } from '../protocol';

export type CheckpointInfo = { kind: 'list'; checkpoints: Checkpoint[] } | { kind: 'unsupported' } | { kind: 'error'; message: string };

const cell = (value: unknown): string => String(value ?? '—').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (value: string): string => `\`${value.replace(/`/g, "'")}\``;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function table(rows: [string, unknown][]): string[] {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${cell(v)} |`)];
}

function numberOf(git: Record<string, unknown> | null | undefined, key: string): number | undefined {
  const value = git?.[key];
  return typeof value === 'number' ? value : undefined;
}

function overview(status: TaskStatus, diff: Diff | undefined): string[] {
  const { task, git } = status;
  const ahead = diff?.ahead ?? numberOf(git, 'ahead');
  const behind = diff?.behind ?? numberOf(git, 'behind');
  const against = diff ? ` vs ${diff.target}` : '';
  const aheadBehind = ahead !== undefined || behind !== undefined ? ` (ahead ${ahead ?? '?'}, behind ${behind ?? '?'}${against})` : '';
  const rows: [string, unknown][] = [
    ['State', `${task.state}${task.reason ? ` — ${task.reason}` : ''}`],
    ['Image', task.image],
    ['Branch', task.branch ? `${task.branch}${aheadBehind}` : aheadBehind ? aheadBehind.trim() : undefined],
    ['Base ref', task.baseRef],
    ['Target', task.target],
    ['Head', task.head?.slice(0, 10)],
    ['Integrated as', task.integratedCommit?.slice(0, 10)],
    ['Parent task', task.parentId],
    ['Network', task.network ?? 'none'],
    ['Container', task.containerId?.slice(0, 12)],
    ['Created', task.createdAt],
    ['Updated', `${task.updatedAt} (revision ${task.revision ?? 0})`],
  ];
  if (task.envKeys && task.envKeys.length > 0) rows.push(['Env vars', task.envKeys.join(', ')]);
  return table(rows.filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

function resources(status: TaskStatus): string[] {
  const r = status.task.resources;
  const s: Stats | null | undefined = status.stats;
  const lines = ['## Resources', '', '| | limit | in use |', '|---|---|---|'];
  lines.push(`| Memory | ${cell(r.memoryMb != null ? `${r.memoryMb} MiB` : undefined)} | ${s ? `${formatBytes(s.memoryBytes)} (${s.memoryPercent.toFixed(1)} %)` : '—'} |`);
  lines.push(`| CPUs | ${cell(r.cpus)} | ${s ? `${s.cpuPercent.toFixed(1)} %` : '—'} |`);
  lines.push(`| PIDs | ${cell(r.pids)} | ${s ? s.pids : '—'} |`);
  if (s) {
    lines.push(`| Network rx / tx | | ${formatBytes(s.netRxBytes)} / ${formatBytes(s.netTxBytes)} |`);
    lines.push(`| Block read / write | | ${formatBytes(s.blockReadBytes)} / ${formatBytes(s.blockWriteBytes)} |`);
  } else {
    lines.push('', '_No live stats (the container is not running)._');
  }
  return lines;
}

function container(inspect: InspectSummary): string[] {
  return [
    '## Container',
    '',
    ...table([
      ['Status', `${inspect.status}${inspect.health ? ` (health: ${inspect.health})` : ''}`],
      ['User', inspect.user],
      ['Read-only root fs', inspect.readOnlyRootfs ? 'yes' : 'no'],
      ['Capabilities dropped', inspect.capDrop.join(', ') || 'none'],
      ['Capabilities added', inspect.capAdd.join(', ') || 'none'],
      ['Security options', inspect.securityOpt.join(', ') || 'none'],
      ['Network mode', inspect.networkMode],
      ['Started', inspect.startedAt],
      ['Exit code', inspect.running ? undefined : inspect.exitCode],
      ['OOM-killed', inspect.oomKilled ? 'yes' : 'no'],
    ]),
  ];
}

function processes(top: TopResult): string[] {
  if (top.titles.length === 0) return [];
  return [
    '## Processes',
    '',
    `| ${top.titles.map(cell).join(' | ')} |`,
    `|${top.titles.map(() => '---').join('|')}|`,
    ...top.processes.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

function gitSection(git: Record<string, unknown>): string[] {
  const rows = Object.entries(git).map(([k, v]): [string, unknown] => [k, typeof v === 'object' ? JSON.stringify(v) : v]);
  return rows.length > 0 ? ['## Git', '', ...table(rows)] : [];
}

function changes(diff: Diff): string[] {
  const lines = ['## Changes', '', `${diff.files.length} file(s), +${diff.insertions} −${diff.deletions} against ${code(diff.target)} (merge base ${code(diff.base.slice(0, 10))})`];
  if (diff.files.length === 0) return lines;
  lines.push('', '| file | + | − |', '|---|---|---|');
  for (const f of diff.files) lines.push(`| ${code(f.path)} | ${f.insertions ?? 'binary'} | ${f.deletions ?? 'binary'} |`);
  return lines;
}

function checkpoints(info: CheckpointInfo): string[] {
  const lines = ['## Checkpoints', ''];
  if (info.kind === 'unsupported') {
    lines.push('_This Dockyard daemon does not support checkpoints yet (`dockyard/listCheckpoints`)._');
  } else if (info.kind === 'error') {
    lines.push(`_Could not list checkpoints: ${info.message}_`);
  } else if (info.checkpoints.length === 0) {
    lines.push('_None yet._');
  } else {
    lines.push('| id | label | created |', '|---|---|---|');
    for (const c of info.checkpoints) lines.push(`| ${code(c.id)} | ${cell(c.label)} | ${cell(c.createdAt)} |`);
  }
  return lines;
}

export interface StatusExtras {
  checkpoints: CheckpointInfo;
  /** diffTask with stat: ahead/behind and changed files, when the daemon supports it and the task has a branch. */
  diff?: Diff;
}

export function renderTaskStatus(status: TaskStatus, extras: StatusExtras, generatedAt: Date): string {
  const { task } = status;
  const out = [`# ${task.title}`, '', `${code(task.id)} · **${task.state}**`, '', ...overview(status, extras.diff), '', ...resources(status)];
  if (extras.diff) out.push('', ...changes(extras.diff));
  if (status.inspect) out.push('', ...container(status.inspect));
  if (status.top) out.push('', ...processes(status.top));
  if (status.git) out.push('', ...gitSection(status.git));
  out.push('', ...checkpoints(extras.checkpoints));
  out.push('', '---', `_As of ${generatedAt.toISOString()}; refreshed when the task changes._`, '');
  return out.join('\n');
}

export function renderMissingTask(taskId: string, message: string): string {
  return [`# Task ${code(taskId)}`, '', `_${message}_`, ''].join('\n');
}
