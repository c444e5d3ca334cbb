#!/usr/bin/env bash
# The full fault-injection sweep (src/sys/fault.ts, test/integration/reliability/faults*.test.ts):
# tscompose SIGKILLed after every step K of `up` and `down` of a 2-service stack, of `run --rm`,
# of `pull` from a local registry and of `build`, and ENOSPC at every state/image/log write of
# `up`, `pull` and `build`; after each, the next `up` / `pull` / `build` must converge and
# `down -v` / `image rm` leave nothing. A failing K is reported and the sweep goes on
# (FAULT_KEEP_GOING=1); the run fails at the end if any did. As root, after `npm run build`.
#   scripts/fault-sweep.sh [report.txt] [vitest -t pattern]
#     report.txt: one line per K (the step killed, the exit code, FAILED lines)
set -euo pipefail
cd "$(dirname "$0")/.."
export FAULT_STRIDE=1 FAULT_SAMPLE_STRIDE=1 FAULT_KEEP_GOING=1
[ $# -lt 1 ] || { export FAULT_REPORT=$(realpath -m "$1"); : > "$FAULT_REPORT"; }
filter=()
[ $# -lt 2 ] || filter=(-t "$2")
exec npx vitest run --project integration --reporter=verbose "${filter[@]}" test/integration/reliability/faults.test.ts test/integration/reliability/faults-images.test.ts
