#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# lab.sh - the lab demo in one command (Debian 12, as root):
#   install what is missing, build into ./build, run build/tools/wsk-lab.
#
# wsk-lab makes its own private network namespace (it disappears with the
# process), creates the TAP wsklab0 inside it and talks to the Linux kernel
# through the stack with the WSK API: ARP, ping, UDP both ways, ICMP port
# unreachable, an unreachable host.  Exit status 0 only if every step passed.
# Arguments are passed to wsk-lab (e.g. --help).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${WSKSTACK_BUILD:-$repo/build}

"$repo/tools/bootstrap.sh" "$build"
exec "$build/tools/wsk-lab" "$@"
