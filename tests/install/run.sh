#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh BUILD_DIR CLIENT_SRC WORK_DIR [SANITIZE]
#
# The install test: `cmake --install` the build into a fresh prefix under
# WORK_DIR, then build tests/install/client.c (a Windows-style WSK source:
# only <ntddk.h> and <wsk.h>) exactly as a user would:
#     cc $(pkg-config --cflags wskstack) client.c $(pkg-config --libs wskstack)
# with PKG_CONFIG_PATH pointed at the prefix, and run it with
# LD_LIBRARY_PATH set to the prefix's library directory.
# SANITIZE ('address' or 'thread') adds the sanitizer flags the library was
# built with, since an instrumented libwskstack needs an instrumented program.
set -euo pipefail

build=$1
src=$2
work=$3
sanitize=${4:-}
cc=${CC:-cc}

rm -rf "$work"
prefix=$work/prefix
mkdir -p "$prefix"

echo "install-test: cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

pc=$(find "$prefix" -name wskstack.pc -print -quit)
if [[ -z $pc ]]; then
    echo "install-test: no wskstack.pc installed under $prefix" >&2
    exit 1
fi
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir wskstack)
# The .pc was generated for the configured prefix; point it at this one.
pcprefix=$(pkg-config --variable=prefix wskstack)
if [[ $pcprefix != "$prefix" ]]; then
    sed -i "s|^prefix=.*|prefix=$prefix|" "$pc"
    libdir=$(pkg-config --variable=libdir wskstack)
fi

for h in ntddk.h wsk.h; do
    if ! find "$prefix" -name "$h" | grep -q .; then
        echo "install-test: $h was not installed" >&2
        exit 1
    fi
done

# The programs and their man pages (man/CMakeLists.txt: share/man/man1, man7).
for f in bin/wsk-lab bin/wskcat bin/wsk-ping share/man/man1/wskcat.1 share/man/man1/wsk-ping.1 \
         share/man/man1/wsk-lab.1 share/man/man7/wskstack.7; do
    if [[ ! -f $prefix/$f ]]; then
        echo "install-test: $f was not installed" >&2
        exit 1
    fi
done

extra=()
case $sanitize in
    address) extra=(-fsanitize=address,undefined) ;;
    thread) extra=(-fsanitize=thread) ;;
esac

cflags=$(pkg-config --cflags wskstack)
libs=$(pkg-config --libs wskstack)
echo "install-test: pkg-config --cflags wskstack: $cflags"
echo "install-test: pkg-config --libs wskstack:   $libs"
set -x
# shellcheck disable=SC2086
"$cc" -Wall -Wextra -Werror ${extra[@]+"${extra[@]}"} $cflags "$src" $libs -o "$work/client"
LD_LIBRARY_PATH=$libdir "$work/client"
