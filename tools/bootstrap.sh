#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bootstrap.sh - install what wskstack needs on Debian 12, then configure and
# build it.
#
#   tools/bootstrap.sh [--deps-only] [BUILD_DIR [CMAKE_OPTION...]]
#
# Packages: only the missing ones are installed (checked with dpkg-query),
# with `apt-get update` + `apt-get install -y --no-install-recommends`, which
# needs root.  When everything is present nothing is installed and root is
# not needed for this step.  BUILD_DIR defaults to ./build; the CMAKE_OPTIONs
# are passed to `cmake -S . -B BUILD_DIR` as given (e.g.
# -DWSKSTACK_SANITIZE=address, -DCMAKE_C_COMPILER=clang).  The build uses
# -j$WSKSTACK_JOBS (default 2).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# What the build, the tests and the tools use:
#   cmake pkg-config gcc clang          build (clang: the fuzz build)
#   libnl-3-dev libnl-route-3-dev        the TAP's kernel side (libnl-route)
#   libcmocka-dev                        unit and lab tests
#   libpcap-dev                          capture files
#   libclang-rt-14-dev                   clang's libFuzzer and sanitizer runtimes
#   iproute2 iputils-ping                ip/nstat/ping for lab users and scripts
#   util-linux                           unshare(1) (scripts, namespaces)
#   socat                                the kernel-side peer of the README lab session
#   radvd                                the IPv6 lab's router: test_lab6_slaac starts it
#                                        on the kernel side of its TAP, inside the
#                                        test's own network namespace (SLAAC, RFC 4862)
#   tshark                               test_lab_pcap reads the stack's pcap= capture
#                                        and checks every IPv4/UDP/ICMP/ICMPv6 checksum
#   groff-base                           man_pages (man/check.sh) formats every manual
#                                        page with groff -man -ww
#   ca-certificates is not needed: nothing is downloaded besides packages.
packages=(cmake pkg-config make gcc libc6-dev clang libnl-3-dev libnl-route-3-dev
          libcmocka-dev libpcap-dev libclang-rt-14-dev iproute2 iputils-ping util-linux
          radvd tshark socat groff-base)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "bootstrap: installing missing packages: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "bootstrap: root is needed to install packages (run as root, or install: ${missing[*]})" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "bootstrap: all packages present"
fi

if [[ ${1:-} == --deps-only ]]; then
    exit 0
fi

build=${1:-$repo/build}
shift || true
jobs=${WSKSTACK_JOBS:-2}

echo "bootstrap: configuring $build ${*:-}"
cmake -S "$repo" -B "$build" "$@"
echo "bootstrap: building $build (-j$jobs)"
cmake --build "$build" -j"$jobs"
