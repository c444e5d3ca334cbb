/** Canonical resource keys of a service: memory and CPU limits, `deploy` (replicas, resources) and `ulimits`. */
import { bytes, int, intIn, isObj, listOrDict, num, replicas, specError, type Obj, type Transformer } from './canonical-values.js';

export const RESOURCE_TRANSFORMERS: Record<string, Transformer> = {
  mem_limit: bytes,
  mem_reservation: bytes,
  memswap_limit: (v, ctx, p) => (v === -1 || v === '-1' ? -1 : bytes(v, ctx, p)),
  shm_size: bytes,
  cpus: num,
  cpu_shares: int,
  cpu_quota: int,
  cpu_period: int,
  pids_limit: int,
  oom_score_adj: intIn(-1000, 1000, 'the range of oom_score_adj'),
  mem_swappiness: int,
  deploy: (v, ctx, p) => {
    const d = { ...(v as Obj) };
    if (d.replicas !== undefined) d.replicas = replicas(d.replicas, ctx, [...p, 'replicas']);
    if (isObj(d.resources)) {
      const r: Obj = { ...d.resources };
      for (const which of ['limits', 'reservations']) {
        if (!isObj(r[which])) continue;
        const l: Obj = { ...(r[which] as Obj) };
        const lp = [...p, 'resources', which];
        if (l.cpus !== undefined) l.cpus = num(l.cpus, ctx, [...lp, 'cpus']);
        if (l.memory !== undefined) l.memory = bytes(l.memory, ctx, [...lp, 'memory']);
        if (l.pids !== undefined) l.pids = int(l.pids, ctx, [...lp, 'pids']);
        r[which] = l;
      }
      d.resources = r;
    }
    if (d.labels !== undefined) d.labels = listOrDict(d.labels, ctx, [...p, 'labels']);
    return d;
  },
  ulimits: (v, ctx, p) => {
    const out: Obj = {};
    for (const [n, l] of Object.entries(v as Obj)) {
      if (isObj(l)) {
        const soft = int(l.soft, ctx, [...p, n, 'soft']);
        const hard = int(l.hard, ctx, [...p, n, 'hard']);
        if (soft > hard && hard !== -1) throw specError(ctx, [...p, n], `soft limit ${soft} is above hard limit ${hard}`);
        out[n] = { soft, hard };
      } else {
        const x = int(l, ctx, [...p, n]);
        out[n] = { soft: x, hard: x };
      }
    }
    return out;
  },
};
