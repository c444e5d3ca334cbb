#!/usr/bin/env bash
# Runs inside `unshare --net --mount --propagation private`: gives the benchmark a network
# namespace of its own that holds nothing but loopback, so no container of any tool can reach
# beyond this machine whatever its network backend configures (docker's bridge, netavark's
# firewall rules): there is no uplink in here to route or masquerade towards. Every bridge and
# veth the tools create lives in this namespace and disappears with it.
#
# sysfs shows the network devices of the namespace that mounted it, so a fresh sysfs is mounted
# for this namespace (tools look up /sys/class/net/<bridge>), and the host's cgroup hierarchies
# are carried over onto it so that all three tools still find their cgroups.
set -euo pipefail
ip link set lo up
# A new namespace copies net.ipv4.ip_forward from the host's; the benchmark starts from 0 in its
# own namespace whatever the host's is (this writes only this namespace's copy).
echo 0 > /proc/sys/net/ipv4/ip_forward
keep=$(mktemp -d /tmp/tsc-bench-cgroup.XXXXXX)
mount --rbind /sys/fs/cgroup "$keep"
mount -t sysfs sysfs /sys
mount --rbind "$keep" /sys/fs/cgroup
umount -l "$keep"
rmdir "$keep"
exec "$@"
