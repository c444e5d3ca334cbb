#!/usr/bin/env bash
# Soak: N up/down cycles of a small stack on the busybox test image (each with a recreate, a
# scale up and down, `run --rm`, `exec`; a SIGKILLed supervisor every 50 cycles, then `up` must
# adopt), counting leaks after each cycle (test/support/leaks.ts). Fails at the first cycle whose
# counts differ from the first cycle's. As root, after `npm run build`.
#   scripts/soak.sh 1000 [report.json]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: scripts/soak.sh N [report.json]}
export SOAK_CYCLES=$n
export SOAK_KILL_EVERY=${SOAK_KILL_EVERY:-50}
[ $# -lt 2 ] || export SOAK_REPORT=$(realpath -m "$2")
exec npx vitest run --project integration --reporter=verbose test/integration/reliability/soak.test.ts
