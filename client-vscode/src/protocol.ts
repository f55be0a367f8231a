/** The client's view of the protocol: generated types + the provisional future methods, one method table. */
import type { FutureRequestMap } from './protocol.future';
import type { DockyardCapabilities, NotificationMap, RequestMap } from './protocol.generated';

export * from './protocol.generated';
export type * from './protocol.future';

export type AllRequestMap = RequestMap & FutureRequestMap;
export type Method = keyof AllRequestMap;
export type ParamsOf<M extends Method> = AllRequestMap[M]['params'];
export type ResultOf<M extends Method> = AllRequestMap[M]['result'];
export type NotificationName = keyof NotificationMap;

/** Method names, for call sites (`M.createTask`), including those only feature-detected today. */
export const M = {
  createTask: 'dockyard/createTask',
  listTasks: 'dockyard/listTasks',
  getTask: 'dockyard/getTask',
  startTask: 'dockyard/startTask',
  stopTask: 'dockyard/stopTask',
  restartTask: 'dockyard/restartTask',
  killTask: 'dockyard/killTask',
  pauseTask: 'dockyard/pauseTask',
  resumeTask: 'dockyard/resumeTask',
  removeTask: 'dockyard/removeTask',
  exec: 'dockyard/exec',
  logs: 'dockyard/logs',
  openSession: 'dockyard/openSession',
  sessionInput: 'dockyard/sessionInput',
  resizeSession: 'dockyard/resizeSession',
  closeSession: 'dockyard/closeSession',
  diffTask: 'dockyard/diffTask',
  integrateTask: 'dockyard/integrateTask',
  checkpointTask: 'dockyard/checkpointTask',
  listCheckpoints: 'dockyard/listCheckpoints',
  restoreCheckpoint: 'dockyard/restoreCheckpoint',
  attachAgent: 'dockyard/attachAgent',
  detachAgent: 'dockyard/detachAgent',
  getPlan: 'dockyard/getPlan',
  createSubtasks: 'dockyard/createSubtasks',
  runPlan: 'dockyard/runPlan',
  cancelRun: 'dockyard/cancelRun',
} as const satisfies Record<string, Method>;

export const N = {
  taskChanged: 'dockyard/taskChanged',
  output: 'dockyard/output',
  execExited: 'dockyard/execExited',
  sessionOutput: 'dockyard/sessionOutput',
  sessionExited: 'dockyard/sessionExited',
  status: 'dockyard/status',
} as const satisfies Record<string, NotificationName>;

/** `capabilities.experimental.dockyard` from an initialize result, or undefined when absent or malformed. */
export function dockyardCapabilities(initializeResult: unknown): DockyardCapabilities | undefined {
  const caps = pick(pick(pick(initializeResult, 'capabilities'), 'experimental'), 'dockyard');
  const features = pick(caps, 'features');
  if (!Array.isArray(features) || !features.every((f): f is string => typeof f === 'string')) {
    return undefined;
  }
  const str = (key: string): string => {
    const value = pick(caps, key);
    return typeof value === 'string' ? value : 'unknown';
  };
  return { features, protocolVersion: str('protocolVersion'), serverVersion: str('serverVersion') };
}

function pick(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
