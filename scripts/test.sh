#!/usr/bin/env bash
# The whole test suite: setup, then the unit suite (no privileges needed) and the integration
# suite (root, real kernel, a registry on 127.0.0.1); then the network and CLI integration
# files again under the "hostile host" profile (Docker's packet-filter state: br_netfilter,
# FORWARD policy DROP, ip_forward=1, a foreign chain; test/support/host-profile.ts restores the
# host exactly afterwards). Prints a closing line "N passed, N failed" over both runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the linter, the formatter and the type check first (eslint.config.js: typescript-eslint's rules
# and the import direction of src/; .prettierrc.json: the code's layout, `npm run format` rewrites
# it; tsconfig.test.json: src/ and test/ type-checked together)
npm run --silent lint || { echo "lint: failed (npm run lint lists the problems, type errors of src/ and test/ included; npm run format fixes the layout)"; exit 1; }

plain=$(mktemp -t tscompose-test-XXXXXX.json)
hostile=$(mktemp -t tscompose-test-XXXXXX.json)
trap 'rm -f "$plain" "$hostile"' EXIT
set +e
npx vitest run --reporter=default --reporter=json --outputFile="$plain" "$@"
rc=$?
if [ $# -eq 0 ]; then
  echo "== again under the hostile host profile: network and CLI integration files"
  TSCOMPOSE_TEST_HOST=hostile npx vitest run --project integration --reporter=default --reporter=json --outputFile="$hostile" \
    test/integration/network test/integration/cli
  rc2=$?
  [ $rc -ne 0 ] || rc=$rc2
fi
set -e
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0, total = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f) || fs.statSync(f).size === 0) continue;
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; total += r.numTotalTests;
    skipped += (r.numPendingTests || 0) + (r.numTodoTests || 0);
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (total === 0) process.exit(1);
' "$plain" "$hostile" || rc=1
exit $rc
