/** The status bar item: running / paused / failed counts from dockyard/status, a spinner while work runs. */
import type { ProgressTracker } from '../io/progress';

/** The part of `vscode.StatusBarItem` the controller uses. */
export interface StatusBarItemLike {
  text: string;
  tooltip: string | { value: string } | undefined;
  command: string | { command: string } | undefined;
  show(): void;
}

export interface StatusView {
  text: string;
  tooltip: string;
}

const SHOWN = ['running', 'paused', 'failed'] as const;

export function statusView(counts: Record<string, number> | undefined, work: readonly string[], offline?: string): StatusView {
  const icon = work.length > 0 ? '$(sync~spin)' : '$(package)';
  if (offline !== undefined) {
    return { text: `$(debug-disconnect) Dockyard`, tooltip: `Dockyard daemon not running: ${offline}` };
  }
  const c = counts ?? {};
  const text = `${icon} ${SHOWN.map((s) => `${c[s] ?? 0} ${s}`).join(' · ')}`;
  const all = Object.entries(c)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`);
  const lines = [`Dockyard tasks: ${all.length > 0 ? all.join(', ') : 'none'}`, ...work.map((w) => `⟳ ${w}`), 'Click for task actions'];
  return { text, tooltip: lines.join('\n') };
}

export class StatusBarController {
  private counts: Record<string, number> | undefined;
  private offline: string | undefined = 'starting';

  constructor(
    private readonly item: StatusBarItemLike,
    private readonly progress: ProgressTracker,
    command: string,
  ) {
    item.command = command;
    progress.onDidChange(() => this.render());
    this.render();
    item.show();
  }

  setCounts(counts: Record<string, number>): void {
    this.counts = counts;
    this.render();
  }

  setOffline(reason: string | undefined): void {
    this.offline = reason;
    this.render();
  }

  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const view = statusView(this.counts, this.progress.describe(), this.offline);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
  }
}
