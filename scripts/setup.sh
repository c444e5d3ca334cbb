#!/usr/bin/env bash
# Installs what tscompose and its tests need on a fresh Debian machine (run as root), then
# installs the npm dependencies and builds. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# linux-libc-dev-armhf-cross: 32-bit arm's syscall table for scripts/gen-seccomp.mjs (its --check runs in the unit suite)
for pkg in busybox-static docker-registry skopeo umoci iproute2 procps util-linux ca-certificates gcc libc6-dev linux-libc-dev-armhf-cross nftables iptables; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The distribution registry package starts a service on :5000 when a service manager exists;
# the tests start their own on 127.0.0.1 with their own storage, so make sure it does not run.
if command -v systemctl >/dev/null 2>&1; then systemctl stop docker-registry >/dev/null 2>&1 || true; fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit --loglevel=error
fi
npm run --silent build
