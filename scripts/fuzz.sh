#!/usr/bin/env bash
# A longer fuzz run than CI's: scripts/fuzz.sh N [SEED] runs N Compose cases in-process, N/10
# through the real CLI, N/2 layer tars and 10*N DNS messages, from SEED (default: the time).
# Each outcome is classified (clean error / accepted / stack trace / internal error / timeout /
# signal / memory over 500 MB); the run fails on any class but the first two and prints the
# seed and the case. As root (the CLI cases and the unpacker need it), after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: scripts/fuzz.sh N [SEED]}
seed=${2:-$(date +%s)}
echo "fuzz: N=$n seed=$seed"
export FUZZ_SEED=$seed FUZZ_CASES=$n FUZZ_CLI_CASES=$(( (n + 9) / 10 )) FUZZ_TAR_CASES=$(( (n + 1) / 2 )) FUZZ_DNS_CASES=$(( n * 10 ))
log=$(mktemp -t tscompose-fuzz-XXXXXX.log)
trap 'rm -f "$log"' EXIT
set +e
npx vitest run --project unit test/unit/fuzz >"$log" 2>&1
rc=$?
npx vitest run --project integration test/integration/cli/fuzz.test.ts test/integration/images/unpack-fuzz.test.ts >>"$log" 2>&1
rc2=$?
set -e
grep -E '^(compose fuzz|CLI fuzz|unpack fuzz|DNS fuzz):|^seed [0-9]+ case' "$log" || true
if [ $rc -ne 0 ] || [ $rc2 -ne 0 ]; then
  grep -E 'FAIL|Error' "$log" | head -40
  echo "fuzz: FAILED (seed $seed)"
  exit 1
fi
echo "fuzz: passed (seed $seed)"
