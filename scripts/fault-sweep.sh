#!/usr/bin/env bash
# The full fault-injection sweep (src/sys/fault.ts, test/integration/reliability/faults.test.ts):
# tscompose SIGKILLed after every step K of `up` and `down` of a 2-service stack, after every
# step of `run --rm`, and ENOSPC at every state/log write of `up`; after each, `up` must
# converge and `down -v` leave nothing. As root, after `npm run build`.
#   scripts/fault-sweep.sh [report.txt]     (one line per K: the step killed and the exit code)
set -euo pipefail
cd "$(dirname "$0")/.."
export FAULT_STRIDE=1 FAULT_SAMPLE_STRIDE=1
[ $# -lt 1 ] || { export FAULT_REPORT=$(realpath -m "$1"); : > "$FAULT_REPORT"; }
exec npx vitest run --project integration --reporter=verbose test/integration/reliability/faults.test.ts
