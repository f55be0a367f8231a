/** One icon (codicon id + theme color) per task state: a table, not scattered ifs. */
import type { TaskState } from '../protocol';

export interface StateIcon {
  id: string;
  color?: string;
}

export const STATE_ICONS: Record<TaskState, StateIcon> = {
  creating: { id: 'loading~spin' },
  running: { id: 'play-circle', color: 'testing.iconPassed' },
  paused: { id: 'debug-pause', color: 'editorWarning.foreground' },
  stopped: { id: 'stop-circle', color: 'disabledForeground' },
  failed: { id: 'error', color: 'errorForeground' },
  removed: { id: 'trash', color: 'disabledForeground' },
  lost: { id: 'question', color: 'editorWarning.foreground' },
  integrated: { id: 'git-merge', color: 'gitDecoration.addedResourceForeground' },
  conflicted: { id: 'warning', color: 'gitDecoration.conflictingResourceForeground' },
};

export function stateIcon(state: string): StateIcon {
  return (STATE_ICONS as Record<string, StateIcon>)[state] ?? { id: 'circle-outline' };
}
