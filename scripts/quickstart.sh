#!/usr/bin/env bash
# Sets up tscompose on a fresh Debian machine (run as root) and brings up the quickstart stack
# offline: the busybox image is built locally from Debian's busybox-static and loaded into the
# store, so no public registry is needed. Stop it with the `down` command printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

tsc=("$PWD/bin/tscompose.js")
image=$(mktemp -d -t tscompose-quickstart-XXXXXX)/busybox.tar
node scripts/build-busybox-image.mjs "$image" >/dev/null
"${tsc[@]}" image load -i "$image"
rm -rf "$(dirname "$image")"

cd examples/quickstart
"${tsc[@]}" up -d --wait --wait-timeout 60
"${tsc[@]}" ps

echo
echo "Waiting for the web service on http://127.0.0.1:8080/ ..."
for _ in $(seq 1 50); do
  if body=$(node -e 'fetch("http://127.0.0.1:8080/").then(r=>r.text()).then(t=>{process.stdout.write(t)},()=>process.exit(1))' 2>/dev/null); then
    echo "$body"
    break
  fi
  sleep 0.2
done
echo
echo "The client reaches the web service by its name:"
sleep 2
"${tsc[@]}" logs --tail 3 client
cat <<MSG

The quickstart stack is up.
  open:   http://127.0.0.1:8080/        (the web service, serving examples/quickstart/site)
  watch:  cd examples/quickstart && ../../bin/tscompose.js logs -f
  stop:   cd examples/quickstart && ../../bin/tscompose.js down
MSG
