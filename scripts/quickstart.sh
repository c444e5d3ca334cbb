#!/usr/bin/env bash
# Sets up tscompose on a fresh Debian machine (root) and shows the quickstart stack, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd examples/quickstart
node ../../bin/tscompose.js config
