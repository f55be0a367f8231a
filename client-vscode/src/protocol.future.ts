/**
 * Methods named by DESIGN §4 that the daemon does not implement yet, so they are not in the schema
 * (diffTask and integrateTask were here until the git layer landed; they now come from the schema).
 * PROVISIONAL: params follow DESIGN §4; result shapes are a best guess and are read defensively by the
 * commands. Replace these with generated types once the daemon's models exist (they will then appear in
 * `protocol.generated.ts`, and the entries here should be deleted).
 */
import type { Session, Task } from './protocol.generated';

export interface CheckpointTaskParams {
  taskId: string;
  label?: string;
}
export interface Checkpoint {
  id: string;
  label?: string | null;
  createdAt?: string;
  [key: string]: unknown;
}
export interface ListCheckpointsResult {
  checkpoints: Checkpoint[];
}
export interface RestoreCheckpointParams {
  taskId: string;
  checkpointId: string;
  mode: 'inPlace' | 'fork';
}
export interface AttachAgentParams {
  taskId: string;
  agent: string;
  prompt?: string;
  headless?: boolean;
}
export interface DetachAgentParams {
  taskId: string;
  agent: string;
}
export interface PlanItem {
  text: string;
  done?: boolean;
  taskId?: string | null;
  [key: string]: unknown;
}
export interface Plan {
  items: PlanItem[];
  [key: string]: unknown;
}
export interface CreateSubtasksParams {
  taskId: string;
  items?: string[];
}
export interface CreateSubtasksResult {
  tasks: Task[];
}
export interface RunPlanParams {
  taskId: string;
  maxParallel?: number;
  verifyCommand?: string;
  budget?: Record<string, number>;
}
export interface Run {
  runId: string;
  state?: string;
  [key: string]: unknown;
}

export interface FutureRequestMap {
  'dockyard/checkpointTask': { params: CheckpointTaskParams; result: Checkpoint };
  'dockyard/listCheckpoints': { params: { taskId: string }; result: ListCheckpointsResult };
  'dockyard/restoreCheckpoint': { params: RestoreCheckpointParams; result: Task };
  'dockyard/attachAgent': { params: AttachAgentParams; result: Session };
  'dockyard/detachAgent': { params: DetachAgentParams; result: Session };
  'dockyard/getPlan': { params: { taskId: string }; result: Plan };
  'dockyard/createSubtasks': { params: CreateSubtasksParams; result: CreateSubtasksResult };
  'dockyard/runPlan': { params: RunPlanParams; result: Run };
  'dockyard/cancelRun': { params: { runId: string }; result: Run };
}
