/**
 * A container's lifecycle as the supervisor drives it: the states of its status record and the
 * one table of the moves between them. Pure: store.ts applies a move and persists it.
 *
 *   (run request) → created ──start──→ running ⇄ paused
 *                      │                  │ exit     │ exit
 *                      │ start failed     ▼          ▼
 *                      └──────→ dead    exited ←─────┘ ──policy──→ restarting ──start──→ running
 *                                 │       │ ▲                          │ stop / start failed
 *                                 │       │ └──────────────────────────┘
 *                                 └───────┴──→ removed (record deleted), or created again (run/start)
 *
 * `created` is the record of a run request whose start is under way (Docker's "created"; the
 * supervisor's `starting` flag says a start is in flight). `removed` is never written: the
 * record is deleted. Changing fields without changing the state (health, stoppedByUser) is
 * not a move.
 */
import { TscError } from '../common/errors.js';
import type { ContainerState, ContainerStatus } from './types.js';

export type LifeState = ContainerState | 'removed';

/** Every allowed move, from → to. Anything else is a supervisor bug. */
export const TRANSITIONS: Readonly<Record<LifeState, readonly LifeState[]>> = {
  // started; failed to start; interrupted start found by a new supervisor; re-run; removed
  created: ['running', 'dead', 'exited', 'created', 'removed'],
  // paused; its process exited (or was found gone by a new supervisor)
  running: ['paused', 'exited'],
  // thawed; its process exited while frozen (or was found gone)
  paused: ['running', 'exited'],
  // the restart started it; stopped by the user, the restart's start failed, or a new supervisor decides again
  restarting: ['running', 'exited'],
  // the restart policy applies; run/start again; removed
  exited: ['restarting', 'created', 'removed'],
  // run/start again; removed
  dead: ['created', 'removed'],
  removed: [],
};

export function canTransition(from: LifeState, to: LifeState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Status fields a move may change besides the state. */
export type StatusPatch = Partial<Omit<ContainerStatus, 'id' | 'state'>>;

/**
 * The status after moving `status` (whose record is `from`: its state, or `removed`) to `to`
 * with `patch`. Throws an INTERNAL TscError for a move the table does not allow.
 */
export function nextStatus(status: ContainerStatus, from: LifeState, to: ContainerState, patch: StatusPatch = {}): ContainerStatus {
  assertTransition(status.id, from, to);
  return { ...status, ...patch, state: to };
}

export function assertTransition(id: string, from: LifeState, to: LifeState): void {
  if (canTransition(from, to)) return;
  const allowed = TRANSITIONS[from];
  throw new TscError(
    'INTERNAL',
    `supervisor internal error: container ${id} cannot go from ${from} to ${to} (from ${from} it may only go to ${allowed.length ? allowed.join(', ') : 'nothing'})`,
    { hint: 'this is a bug in tscompose; the supervisor log has the details' },
  );
}
