#!/usr/bin/env bash
# One command for the side-by-side benchmarks (run as root on Debian 12):
#
#   sudo bench/run.sh [--reps N] [--run-reps N] [--sizes 1,10,30] [--tools tscompose,docker,podman]
#                     [--default-down-sizes 1] [--out FILE] [--no-profile]
#   sudo bench/run.sh --build [--runs N] [--tools tscompose,docker-buildkit,docker-legacy,podman,buildah]
#                     [--out FILE]
#
# 1. installs the peers and tools from Debian (docker.io, docker-compose, podman, podman-compose,
#    buildah, netavark, aardvark-dns, runc, busybox-static, skopeo, umoci, docker-registry,
#    hyperfine, strace) without letting the packages start any service;
# 2. builds tscompose (npm ci, npm run build: the bundled CLI, as users run it);
# 3. runs bench/compare.mjs (with --build: bench/build.mjs, image builds) inside a private
#    network and mount namespace that holds only loopback (bench/netns-enter.sh): dockerd (started by the benchmark with --iptables=false
#    --ip-masq=false --ip-forward=false), podman's netavark and tscompose all build their bridges
#    in there, so no container can reach beyond this machine and the host's forwarding and NAT
#    settings are never touched.
# The markdown table goes to stdout (and to --out FILE); progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "bench/run.sh: run as root" >&2; exit 1; fi

script=bench/compare.mjs
args=()
for a in "$@"; do
  if [ "$a" = --build ]; then script=bench/build.mjs; else args+=("$a"); fi
done

pkgs=(docker.io docker-compose podman podman-compose buildah netavark aardvark-dns runc busybox-static
      skopeo umoci docker-registry hyperfine strace iproute2 util-linux)
need=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]}" >&2
  # Packages must not start their daemons (dockerd with its default NAT rules, the registry on
  # :5000): a policy-rc.d that refuses every start, kept only during the install.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi
for svc in docker containerd docker-registry; do
  command -v systemctl >/dev/null 2>&1 && systemctl stop "$svc" >/dev/null 2>&1 || true
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit --loglevel=error
fi
# The whole build (tsc, then the bundles): after a bare tsc the CLI would run the unbundled
# output, which starts slower than what users run (bin/tscompose.js picks the newer of the two).
npm run --silent build

exec unshare --net --mount --propagation private bench/netns-enter.sh node "$script" ${args[@]+"${args[@]}"}
