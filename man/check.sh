#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check.sh - keep the manual pages of man/ true to the programs they
# describe (ctest: man_pages, man_pages_selftest).
#
#   man/check.sh BUILD_DIR SOURCE_DIR               run the checks
#   man/check.sh --self-test BUILD_DIR SOURCE_DIR   show that each check fails
#                                                   on the discrepancy it is for
#
# The tools are taken from BUILD_DIR/tools (WSKMAN_TOOLS_DIR overrides it);
# everything else from SOURCE_DIR.  The checks:
#   render    every page formats with `groff -man -ww` for -Tutf8 and -Tascii
#             without a single warning, has the sections of its kind, and is
#             installed by man/CMakeLists.txt;
#   options   for each tool, the options tagged in the page's OPTIONS, the
#             options on the option lines of its --help, and the options its
#             source accepts (getopt_long table and optstring, or argv
#             comparisons) are the same set - so a tool that gains an option
#             fails here until its page and --help have it;
#   exit      the codes tagged in the page's EXIT STATUS are those of the
#             "Exit status:" block of --help;
#   keys      the WSKSTACK_CONFIG keys of stack/config.c are the keys tagged
#             in wskstack.7, and each documented key is known to the parser
#             (probed through wskcat with an invalid mtu, so no stack starts);
#   trace     the trace layers and JSON fields of stack/trace.c are the tags
#             of wskstack.7's TRACE section;
#   counters  the counters of stack/counters.h are the tags of wskstack.7's
#             COUNTERS section.
# A page's tags are read from its roff source: the line after each .TP/.TQ
# of a section, with fonts, quotes and escapes removed.  One line per check
# ("ok ..." or "FAIL ...: why"), then "man: N passed, N failed".  The exit
# status is 0 only if every check passed.
set -uo pipefail
export LC_ALL=C   # one collation for sort and comm, plain messages from groff

PAGES_1=(wskcat.1 wsk-ping.1 wsk-lab.1)
PAGE_7=wskstack.7
TOOL_SECTIONS=(NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO")
STACK_SECTIONS=(NAME SYNOPSIS DESCRIPTION CONFIGURATION TRACE COUNTERS ENVIRONMENT "SEE ALSO")

passed=0
failed=0

ok() {
    echo "ok   $1"
    passed=$((passed + 1))
}

fail() {
    echo "FAIL $1: ${*:2}"
    failed=$((failed + 1))
}

# ---- reading pages ------------------------------------------------------------

# The raw tag lines of section $2 of page $1: the line after every .TP or
# .TQ between ".SH $2" and the next .SH.
raw_tags() {
    awk -v want="$2" '
        /^\.SH[ \t]/ { name = $0; sub(/^\.SH[ \t]+/, "", name); gsub(/"/, "", name)
                       on = (name == want); grab = 0; next }
        !on { next }
        /^\.\\"/ { next }
        grab { print; grab = 0; next }
        /^\.(TP|TQ)([ \t]|$)/ { grab = 1 }
    ' "$1"
}

# A tag line as the reader sees it: no macro name, fonts, quotes or escapes.
plain() {
    sed -E -e 's/^\.[A-Za-z]+[ \t]*//' \
           -e 's/\\f(\[[^]]*\]|\([A-Za-z]{2}|[A-Za-z0-9])//g' \
           -e 's/\\-/-/g; s/\\\(aq/'"'"'/g; s/\\\(dq//g; s/\\c//g; s/\\&//g; s/\\e/\\/g' \
           -e 's/"//g'
}

tags() {
    raw_tags "$1" "$2" | plain
}

# Option words (-x, --long) in tag lines on stdin: "--trace[=LAYERS]" gives
# --trace, "-b, --bind ADDR" gives -b and --bind.
option_words() {
    tr ' \t' '\n\n' | sed -E 's/,$//; s/(\[|=).*$//' | grep -E '^--?[A-Za-z0-9][A-Za-z0-9-]*$' |
        sort -u
}

# The section headings of page $1, one per line.
sections() {
    sed -n -E 's/^\.SH[ \t]+//p' "$1" | tr -d '"'
}

# ---- reading tools --------------------------------------------------------------

tool_path() {
    echo "${TOOLS_DIR}/$1"
}

# Option words of the option lines of --help: lines indented by 1 to 4
# spaces that start with '-', up to the two spaces before the description.
help_options() {
    sed -n -E '/^ {1,4}-/{ s/^ +//; s/  .*$//; p; }' | option_words
}

# The codes of the "Exit status:" block of --help (lines "  N  text").
help_exit_codes() {
    awk '/^Exit status:/ { on = 1; next }
         on && /^ +[0-9]+ / && match($0, /^ +/) && RLENGTH <= 4 { print $1; next }
         on && /^[^ ]/ { on = 0 }' | sort -u
}

# The source of tool $1 and the local headers it includes.
tool_sources() {
    local src="$SRC/tools/$1.c" h
    echo "$src"
    for h in $(sed -n -E 's/^#include "([^"]+)"/\1/p' "$src"); do
        [[ -f "$SRC/tools/$h" ]] && echo "$SRC/tools/$h"
    done
}

# The options the source of tool $1 accepts: getopt_long's table and
# optstring, and string comparisons with argv[i] (wsk-lab's own parser).
source_options() {
    local files
    mapfile -t files < <(tool_sources "$1")
    {
        grep -ohE '\{"[a-z0-9][a-z0-9-]*", *(no|required|optional)_argument' "${files[@]}" |
            sed -E 's/^\{"([^"]+)".*/--\1/'
        grep -ohE 'getopt(_long)?\([^"]*"[^"]*"' "${files[@]}" |
            sed -E 's/.*"([^"]*)"$/\1/' | tr -d '+:-' | grep -o . | sed 's/^/-/'
        grep -ohE 'strn?cmp\(argv\[[a-z]+\], *"-[^"]*"' "${files[@]}" |
            sed -E 's/.*"(-[^"]*)"$/\1/; s/=$//'
    } | sort -u
}

# "a b" and "c" as a readable list.
list() {
    tr '\n' ' ' | sed 's/ $//'
}

# Compare two sorted sets: $1 label of A, $2 set A, $3 label of B, $4 set
# B (one item a line).  Prints what is in one and not the other; status 1
# if anything is.
compare_sets() {
    local only_a only_b out=""
    only_a=$(comm -23 <(echo "$2") <(echo "$4") | grep . | list)
    only_b=$(comm -13 <(echo "$2") <(echo "$4") | grep . | list)
    [[ -n "$only_a" ]] && out="in $1 but not in $3: $only_a"
    [[ -n "$only_b" ]] && out="${out:+$out; }in $3 but not in $1: $only_b"
    if [[ -n "$out" ]]; then
        echo "$out"
        return 1
    fi
    return 0
}

# ---- the checks ------------------------------------------------------------------

check_render() {
    local page=$1 kind=$2 dev out missing="" s
    for dev in utf8 ascii; do
        out=$(groff -man -T"$dev" -ww -z "$MAN/$page" 2>&1)
        if [[ -n "$out" ]]; then
            fail "render $page (-T$dev)" "$(echo "$out" | head -5 | list)"
            return
        fi
    done
    local -a want
    if [[ $kind == tool ]]; then want=("${TOOL_SECTIONS[@]}"); else want=("${STACK_SECTIONS[@]}"); fi
    for s in "${want[@]}"; do
        sections "$MAN/$page" | grep -qxF "$s" || missing="${missing:+$missing, }$s"
    done
    if [[ -n "$missing" ]]; then
        fail "render $page" "missing sections: $missing"
        return
    fi
    if ! grep -qE "(^|[ (])${page//./\\.}([ )]|$)" "$MAN/CMakeLists.txt"; then
        fail "render $page" "not installed by man/CMakeLists.txt"
        return
    fi
    ok "render $page"
}

check_options() {
    local tool=$1 exe help page_opts help_opts src_opts why="" d
    exe=$(tool_path "$tool")
    if [[ ! -x "$exe" ]]; then
        fail "options $tool" "$exe is missing: build the tools first"
        return
    fi
    if ! help=$("$exe" --help 2>&1); then
        fail "options $tool" "$tool --help exited with a non-zero status"
        return
    fi
    page_opts=$(tags "$MAN/$tool.1" OPTIONS | option_words)
    help_opts=$(echo "$help" | help_options)
    src_opts=$(source_options "$tool")
    if [[ -z "$page_opts" || -z "$help_opts" || -z "$src_opts" ]]; then
        fail "options $tool" "no options found (page: ${page_opts:-none}; help:" \
             "${help_opts:-none}; source: ${src_opts:-none})"
        return
    fi
    d=$(compare_sets "--help" "$help_opts" "the page" "$page_opts") || why="$d"
    d=$(compare_sets "the source" "$src_opts" "the page" "$page_opts") || why="${why:+$why; }$d"
    if [[ -n "$why" ]]; then
        fail "options $tool" "$why"
        return
    fi
    ok "options $tool ($(echo "$page_opts" | wc -l) options)"
}

check_exit() {
    local tool=$1 exe page_codes help_codes d
    exe=$(tool_path "$tool")
    if [[ ! -x "$exe" ]]; then
        fail "exit $tool" "$exe is missing: build the tools first"
        return
    fi
    page_codes=$(tags "$MAN/$tool.1" "EXIT STATUS" | grep -xE '[0-9]+' | sort -u)
    help_codes=$("$exe" --help 2>&1 | help_exit_codes)
    if [[ -z "$page_codes" || -z "$help_codes" ]]; then
        fail "exit $tool" "no exit codes found (page: ${page_codes:-none};" \
             "help: ${help_codes:-none})"
        return
    fi
    if ! d=$(compare_sets "--help" "$help_codes" "the page" "$page_codes"); then
        fail "exit $tool" "$d"
        return
    fi
    ok "exit $tool (codes $(echo "$page_codes" | sort -n | list))"
}

# The key names of stack/config.c: apply() tests strcmp(key, "name").
config_keys() {
    grep -ohE 'strcmp\(key, *"[a-z][a-z0-9-]*"\) *== *0' "$SRC/stack/config.c" |
        sed -E 's/.*"([^"]+)".*/\1/' | sort -u
}

# Is key $1 known to the parser?  wskcat is given "KEY=" and an invalid mtu,
# so the configuration always fails and no stack is ever created; the
# message says "unknown key" only when the key is not one.
key_known() {
    local err
    err=$(env -u WSKSTACK_CONFIG "$(tool_path wskcat)" --config "$1=" --mtu 0 listen 7 2>&1 >/dev/null)
    [[ $? -eq 2 ]] || return 2
    ! grep -qF "unknown key \"$1\"" <<<"$err"
}

check_keys() {
    local code_keys page_keys d k bad=""
    code_keys=$(config_keys)
    page_keys=$(tags "$MAN/$PAGE_7" CONFIGURATION | grep -oE '^[a-z][a-z0-9-]*=' | tr -d = | sort -u)
    if [[ -z "$code_keys" || -z "$page_keys" ]]; then
        fail "keys $PAGE_7" "no keys found (stack/config.c: ${code_keys:-none};" \
             "page: ${page_keys:-none})"
        return
    fi
    if ! d=$(compare_sets "stack/config.c" "$code_keys" "the page" "$page_keys"); then
        fail "keys $PAGE_7" "$d"
        return
    fi
    # The probe must be able to tell: a made-up key is unknown.
    key_known wskman-no-such-key
    if [[ $? -ne 1 ]]; then
        fail "keys $PAGE_7" "the probe through wskcat does not report an unknown key"
        return
    fi
    for k in $page_keys; do
        key_known "$k" || bad="${bad:+$bad }$k"
    done
    if [[ -n "$bad" ]]; then
        fail "keys $PAGE_7" "documented but rejected by the parser: $bad"
        return
    fi
    ok "keys $PAGE_7 ($(echo "$page_keys" | wc -l) keys)"
}

# Layer names ([TL_X] = "name") and JSON field names of stack/trace.c: the
# pairs {"name", f->member} of the tables emit_line writes the fields from
# ("rfc" comes from a local variable, rfcv).
trace_names() {
    local f="$SRC/stack/trace.c"
    grep -ohE '\[TL_[A-Z0-9_]+\] *= *"[a-z0-9]+"' "$f" | sed -E 's/.*"([^"]+)"/\1/'
    grep -ohE '\{"[a-z0-9_]+", *(f->[a-z0-9_]+|rfcv)\}' "$f" | sed -E 's/\{"([^"]+)".*/\1/'
}

check_trace() {
    local code page d
    code=$(trace_names | sort -u)
    page=$(tags "$MAN/$PAGE_7" TRACE | grep -xE '[a-z0-9_]+' | sort -u)
    if [[ -z "$code" || -z "$page" ]]; then
        fail "trace $PAGE_7" "no layers or fields found (stack/trace.c: ${code:-none};" \
             "page: ${page:-none})"
        return
    fi
    if ! d=$(compare_sets "stack/trace.c" "$code" "the page" "$page"); then
        fail "trace $PAGE_7" "$d"
        return
    fi
    ok "trace $PAGE_7 ($(echo "$page" | wc -l) layers and fields)"
}

check_counters() {
    local code page d
    code=$(grep -oE '^ *X\([A-Za-z0-9]+,' "$SRC/stack/counters.h" |
           sed -E 's/^ *X\(([^,]+),/\1/' | sort -u)
    page=$(tags "$MAN/$PAGE_7" COUNTERS | grep -xE '[A-Z][A-Za-z0-9]+' | sort -u)
    if [[ -z "$code" || -z "$page" ]]; then
        fail "counters $PAGE_7" "no counters found"
        return
    fi
    if ! d=$(compare_sets "stack/counters.h" "$code" "the page" "$page"); then
        fail "counters $PAGE_7" "$d"
        return
    fi
    ok "counters $PAGE_7 ($(echo "$page" | wc -l) counters)"
}

# WSKMAN_ONLY=GROUP runs one group of checks (the self-test uses it).
wanted() {
    [[ -z "${WSKMAN_ONLY:-}" || $WSKMAN_ONLY == "$1" ]]
}

run_checks() {
    local p
    if wanted render; then
        if ! command -v groff >/dev/null; then
            fail "render" "groff is not installed (Debian: groff-base; tools/bootstrap.sh installs it)"
        else
            for p in "${PAGES_1[@]}"; do
                check_render "$p" tool
            done
            check_render "$PAGE_7" stack
        fi
    fi
    for p in "${PAGES_1[@]}"; do
        wanted options && check_options "${p%.1}"
        wanted exit && check_exit "${p%.1}"
    done
    wanted keys && check_keys
    wanted trace && check_trace
    wanted counters && check_counters
    echo "man: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}

# ---- self-test --------------------------------------------------------------------

# Copies of what the checks read, in a temporary source tree; each mutation
# is made on a fresh copy and the checks must then fail, naming it.
selftest_copy() {
    rm -rf "$TMP/src"
    mkdir -p "$TMP/src/man" "$TMP/src/tools" "$TMP/src/stack"
    cp "$SRC"/man/* "$TMP/src/man/"
    cp "$SRC"/tools/*.c "$SRC"/tools/*.h "$TMP/src/tools/"
    cp "$SRC/stack/config.c" "$SRC/stack/trace.c" "$SRC/stack/counters.h" "$TMP/src/stack/"
}

# A tools directory whose wsk-ping prints one more option in --help.
selftest_tools() {
    mkdir -p "$TMP/tools"
    ln -sf "$BUILD/tools/wskcat" "$TMP/tools/wskcat"
    ln -sf "$BUILD/tools/wsk-lab" "$TMP/tools/wsk-lab"
    cat > "$TMP/tools/wsk-ping" <<EOF
#!/bin/sh
"$BUILD/tools/wsk-ping" "\$@"
rc=\$?
[ "\$1" = --help ] && echo "  --frobnicate      an option the page does not have"
exit \$rc
EOF
    chmod +x "$TMP/tools/wsk-ping"
}

# selftest_case NAME GROUP EXPECT TOOLS_DIR COMMAND...: COMMAND changes a
# fresh copy; then check group GROUP must fail with a line naming EXPECT.
selftest_case() {
    local name=$1 group=$2 expect=$3 tools=$4 out rc
    shift 4
    selftest_copy
    (cd "$TMP/src" && "$@") || { fail "self-test $name" "the mutation did not apply"; return; }
    out=$(WSKMAN_ONLY="$group" WSKMAN_TOOLS_DIR="$tools" bash "$SELF" "$BUILD" "$TMP/src" 2>&1)
    rc=$?
    if [[ $rc -ne 0 ]] && grep -E '^FAIL' <<<"$out" | grep -qF -- "$expect"; then
        ok "self-test $name"
    else
        fail "self-test $name" "expected a FAIL naming '$expect', got status $rc:" \
             "$(grep -E '^(FAIL|man:)' <<<"$out" | list)"
    fi
}

# Edit file $1 with sed script $2, and fail if nothing changed.
mutate() {
    local before
    before=$(cksum < "$1")
    sed -i -E "$2" "$1"
    [[ $(cksum < "$1") != "$before" ]]
}

selftest_key_in_source_and_page() {
    mutate stack/config.c 's/^( *)if \(strcmp\(key, "slaac"\) == 0\) \{/\1if (strcmp(key, "frob-key") == 0)\n\1    return 0;\n&/' &&
        mutate man/wskstack.7 's/^\.BI tap= NAME$/.BI frob\\-key= X\nNot a key.\n.TP\n&/'
}

run_selftest() {
    local out t="$BUILD/tools"
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    selftest_tools
    selftest_copy
    if out=$(WSKMAN_TOOLS_DIR="$t" bash "$SELF" "$BUILD" "$TMP/src" 2>&1); then
        ok "self-test unchanged copy passes"
    else
        fail "self-test unchanged copy passes" "$(grep -E '^(FAIL|man:)' <<<"$out" | list)"
    fi
    selftest_case "page lacks an option" options "--ready-fd" "$t" \
        mutate man/wskcat.1 '/^\.BI \\-\\-ready\\-fd/d'
    selftest_case "source gains an option" options "--frobnicate" "$t" \
        mutate tools/wskcat.c 's/^( *)\{"help", no_argument, NULL, .h.\},/&\n\1{"frobnicate", no_argument, NULL, 0x7f},/'
    selftest_case "--help gains an option" options "--frobnicate" "$TMP/tools" true
    selftest_case "page has an unknown option" options "--bogus" "$t" \
        mutate man/wsk-ping.1 's/^\.SS Stack configuration$/.TP\n.B \\-\\-bogus\nNo such option.\n&/'
    selftest_case "exit code differs" exit "131" "$t" \
        mutate man/wsk-lab.1 's/^\.B 130$/.B 131/'
    selftest_case "page lacks a key" keys "trace-file" "$t" \
        mutate man/wskstack.7 '/^\.BI trace\\-file= PATH$/d'
    selftest_case "code gains a key" keys "frob-key" "$t" \
        mutate stack/config.c 's/^( *)if \(strcmp\(key, "slaac"\) == 0\) \{/\1if (strcmp(key, "frob-key") == 0)\n\1    return 0;\n&/'
    # Source and page agree, but the built parser does not know the key.
    selftest_case "page documents a key the parser rejects" keys \
        "rejected by the parser: frob-key" \
        "$t" selftest_key_in_source_and_page
    selftest_case "code gains a trace field" trace "frobfield" "$t" \
        mutate stack/trace.c 's/\{"status", f->status\}/{"frobfield", f->status}, &/'
    selftest_case "code gains a counter" counters "FrobCounter" "$t" \
        mutate stack/counters.h 's/^( *)X\(UdpIgnoredMulti, /\1X(FrobCounter, "x") \\\n&/'
    selftest_case "roff warning" render "render wsk-lab.1" "$t" \
        mutate man/wsk-lab.1 's/^\.SH SEE ALSO$/.XQ not a macro\n&/'
    echo "man self-test: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}

# ---- main ---------------------------------------------------------------------------

SELF=$(readlink -f "${BASH_SOURCE[0]}")
mode=check
if [[ ${1:-} == --self-test ]]; then
    mode=selftest
    shift
fi
if [[ $# -ne 2 || ! -d $1 || ! -d $2 ]]; then
    echo "usage: $0 [--self-test] BUILD_DIR SOURCE_DIR" >&2
    exit 2
fi
BUILD=$(readlink -f "$1")
SRC=$(readlink -f "$2")
MAN="$SRC/man"
TOOLS_DIR=${WSKMAN_TOOLS_DIR:-$BUILD/tools}

if [[ $mode == selftest ]]; then
    run_selftest
else
    run_checks
fi
