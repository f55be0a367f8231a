/** Command ids. User commands live under `dockyard.task.*` so they can never clash with the daemon's own
 *  `workspace/executeCommand` names (`dockyard.<method>`), which vscode-languageclient registers too. */
export const CMD = {
  newTask: 'dockyard.task.new',
  newSubtasks: 'dockyard.task.newSubtasks',
  ultrawork: 'dockyard.task.ultrawork',
  attachAgent: 'dockyard.task.attachAgent',
  detachAgent: 'dockyard.task.detachAgent',
  runCommand: 'dockyard.task.runCommand',
  openTerminal: 'dockyard.task.openTerminal',
  showStatus: 'dockyard.task.showStatus',
  showLogs: 'dockyard.task.showLogs',
  pauseResume: 'dockyard.task.pauseResume',
  stopStart: 'dockyard.task.stopStart',
  checkpoint: 'dockyard.task.checkpoint',
  restoreCheckpoint: 'dockyard.task.restoreCheckpoint',
  integrate: 'dockyard.task.integrate',
  remove: 'dockyard.task.remove',
  taskActions: 'dockyard.task.actions',
  refresh: 'dockyard.tasks.refresh',
  restartServer: 'dockyard.server.restart',
  showServerOutput: 'dockyard.server.showOutput',
} as const;

export type CommandId = (typeof CMD)[keyof typeof CMD];

/** The 15 user commands of the issue, in its order, with their palette titles (category "Dockyard"). */
export const USER_COMMANDS = [
  { id: CMD.newTask, title: 'New Task' },
  { id: CMD.newSubtasks, title: 'New Subtasks from Plan' },
  { id: CMD.ultrawork, title: 'Ultrawork (Run Plan)' },
  { id: CMD.attachAgent, title: 'Attach Agent' },
  { id: CMD.detachAgent, title: 'Detach Agent' },
  { id: CMD.runCommand, title: 'Run Command in Task' },
  { id: CMD.openTerminal, title: 'Open Terminal in Task' },
  { id: CMD.showStatus, title: 'Show Task Status' },
  { id: CMD.showLogs, title: 'Show Logs' },
  { id: CMD.pauseResume, title: 'Pause/Resume Task' },
  { id: CMD.stopStart, title: 'Stop/Start Task' },
  { id: CMD.checkpoint, title: 'Checkpoint Task' },
  { id: CMD.restoreCheckpoint, title: 'Restore Checkpoint' },
  { id: CMD.integrate, title: 'Integrate Task' },
  { id: CMD.remove, title: 'Remove Task' },
] as const satisfies readonly { id: CommandId; title: string }[];
