# SPDX-License-Identifier: MIT
#
# report.awk - the benchmark table: reads the "result ..." lines of the
# benchmarks (bench_util.h) and prints medians and ratios.  Other lines are
# ignored.  POSIX awk (Debian's mawk): no asort, so a small sort of its own.
#
# Pairing: the i-th measurement of one variant is paired with the i-th of
# another (bench/run.sh runs the variants one after the other in every
# round, so measurement i of each comes from round i).  A ratio is the
# median of the per-round ratios, with their [min..max]: its spread shows
# how much of a difference the machine's noise alone makes.
#
#   awk -f report.awk results.txt

function field(name,    i, kv) {
    for (i = 2; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == name)
            return substr($i, length(name) + 2)
    }
    return ""
}

# Sort a[1..n] numerically in place (insertion sort: n is small).
function sort(a, n,    i, j, v) {
    for (i = 2; i <= n; i++) {
        v = a[i]
        for (j = i - 1; j >= 1 && a[j] > v; j--)
            a[j + 1] = a[j]
        a[j + 1] = v
    }
}

function median(a, n,    b, i) {
    if (n == 0)
        return -1
    for (i = 1; i <= n; i++)
        b[i] = a[i]
    sort(b, n)
    return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
}

# Values of key k, metric m ("value" or "cpu"), into out[1..]; returns n.
function vals(k, m, out,    i) {
    for (i = 1; i <= cnt[k]; i++)
        out[i] = data[k, m, i]
    return cnt[k]
}

function med(k, m,    v, n) {
    n = vals(k, m, v)
    return median(v, n)
}

# Per-round ratios num/den of metric m into r[]; sets RMIN, RMAX; returns
# the median (-1 if no pair).
function ratio(num, den, m,    n, i, r) {
    n = cnt[num] < cnt[den] ? cnt[num] : cnt[den]
    if (n == 0)
        return -1
    for (i = 1; i <= n; i++)
        r[i] = data[num, m, i] / data[den, m, i]
    RMED = median(r, n)
    sort(r, n)
    RMIN = r[1]
    RMAX = r[n]
    return RMED
}

# Per-round ratios (a + b) / den.
function ratio_sum(a, b, den, m,    n, i, r) {
    n = cnt[a] < cnt[b] ? cnt[a] : cnt[b]
    n = cnt[den] < n ? cnt[den] : n
    if (n == 0)
        return -1
    for (i = 1; i <= n; i++)
        r[i] = (data[a, m, i] + data[b, m, i]) / data[den, m, i]
    RMED = median(r, n)
    sort(r, n)
    RMIN = r[1]
    RMAX = r[n]
    return RMED
}

# max/min - 1 of key k's CPU times (-1 if none).
function spread(k,    v, n) {
    n = vals(k, "cpu", v)
    if (n == 0)
        return -1
    sort(v, n)
    return v[n] / v[1] - 1
}

# Per round i, the sum of variant v's CPU figures over the four paths into
# out[i]; returns the number of rounds that have all four (0 if a path is
# missing).
function all_paths(v, out,    c, fd, k, n, i) {
    n = -1
    for (c = 1; c <= ncol; c++) {
        split(cols[c], fd, " ")
        k = "trace" SUBSEP v SUBSEP fd[1] SUBSEP fd[2]
        if (n < 0 || cnt[k] < n)
            n = cnt[k]
    }
    for (i = 1; i <= n; i++) {
        out[i] = 0
        for (c = 1; c <= ncol; c++) {
            split(cols[c], fd, " ")
            out[i] += data["trace" SUBSEP v SUBSEP fd[1] SUBSEP fd[2], "cpu", i]
        }
    }
    return n < 0 ? 0 : n
}

# max/min - 1 of a[1..n].
function spread_of(a, n,    b, i) {
    for (i = 1; i <= n; i++)
        b[i] = a[i]
    sort(b, n)
    return b[n] / b[1] - 1
}

function ratio_cell(num, den, m,    x) {
    x = ratio(num, den, m)
    return x < 0 ? "-" : sprintf("%.3f [%.2f..%.2f]", x, RMIN, RMAX)
}

function ns_cell(k,    c, w) {
    if (cnt[k] == 0)
        return "-"
    c = med(k, "cpu")
    w = med(k, "value")
    return sprintf("%.0f (%.0f)", c, w)
}

$1 == "result" {
    k = field("bench") SUBSEP field("variant") SUBSEP field("family") SUBSEP field("dir")
    i = ++cnt[k]
    data[k, "value", i] = field("value") + 0
    data[k, "cpu", i] = field("cpu") + 0
    if (!(field("bench") in count))
        count[field("bench")] = field("count")
    vcount[field("bench"), field("variant")] = field("count")
    seen[field("bench")] = 1
}

END {
    ncol = split("ipv4 rx,ipv4 tx,ipv6 rx,ipv6 tx", cols, ",")
    if (seen["trace"]) {
        printf "== trace cost (issue 6): the datagram path over the memdev, %s datagrams a measurement", count["trace"]
        if (("trace" SUBSEP "on") in vcount && vcount["trace", "on"] != count["trace"])
            printf " (tracing on: %s)", vcount["trace", "on"]
        printf " ==\n"
        printf "ns per datagram: CPU time of all the benchmark's threads on one CPU, (wall clock); median of %d rounds\n", cnt["trace" SUBSEP "co" SUBSEP "ipv4" SUBSEP "rx"]
        printf "%-26s", ""
        for (c = 1; c <= ncol; c++)
            printf "%-22s", cols[c]
        printf "\n"
        nv = split("co,off,on", vs, ",")
        split("trace compiled out,tracing off,tracing on (all; text),", vname, ",")
        for (v = 1; v <= nv; v++) {
            printf "%-26s", vname[v]
            for (c = 1; c <= ncol; c++) {
                split(cols[c], fd, " ")
                printf "%-22s", ns_cell("trace" SUBSEP vs[v] SUBSEP fd[1] SUBSEP fd[2])
            }
            printf "\n"
        }
        printf "%-26s", "off / compiled out (CPU)"
        for (c = 1; c <= ncol; c++) {
            split(cols[c], fd, " ")
            off = "trace" SUBSEP "off" SUBSEP fd[1] SUBSEP fd[2]
            co = "trace" SUBSEP "co" SUBSEP fd[1] SUBSEP fd[2]
            printf "%-22s", ratio_cell(off, co, "cpu")
            x = ratio(off, co, "cpu")
            if (x >= 0)
                offmed[c] = x
        }
        printf "\n%-26s", "on / compiled out (CPU)"
        for (c = 1; c <= ncol; c++) {
            split(cols[c], fd, " ")
            printf "%-22s", ratio_cell("trace" SUBSEP "on" SUBSEP fd[1] SUBSEP fd[2], "trace" SUBSEP "co" SUBSEP fd[1] SUBSEP fd[2], "cpu")
        }
        # Noise: how much one variant alone varies from round to round
        # (max/min - 1 of its CPU times), the larger of co and off.
        printf "\n%-26s", "noise (co, off max/min-1)"
        for (c = 1; c <= ncol; c++) {
            split(cols[c], fd, " ")
            a = spread("trace" SUBSEP "co" SUBSEP fd[1] SUBSEP fd[2])
            b = spread("trace" SUBSEP "off" SUBSEP fd[1] SUBSEP fd[2])
            if (a < 0 || b < 0) {
                printf "%-22s", "-"
                continue
            }
            if (cnt["trace" SUBSEP "co" SUBSEP fd[1] SUBSEP fd[2]] < 3 || cnt["trace" SUBSEP "off" SUBSEP fd[1] SUBSEP fd[2]] < 3) {
                few = 1
                printf "%-22s", "-"
                continue
            }
            noise[c] = a > b ? a : b
            printf "%-22s", sprintf("%.1f %%, %.1f %%", a * 100, b * 100)
        }
        printf "\n"
        # The verdict: a difference smaller than the round-to-round spread
        # of the variants themselves cannot be told from noise.
        if (few)
            printf "tracing off vs compiled out: fewer than 3 rounds, no estimate of the noise\n"
        for (c = 1; c <= ncol; c++) {
            if (!(c in offmed) || !(c in noise))
                continue
            d = offmed[c] - 1
            printf "tracing off vs compiled out, %s: %+.1f %% (median of the rounds' ratios); noise %.1f %% -> %s\n", cols[c], d * 100, noise[c] * 100, (d < 0 ? -d : d) <= noise[c] ? "within noise" : "MEASURABLE"
        }
        # The headline: the four paths together (per round, the sum of the
        # four CPU figures), whose spread is smaller than any one path's.
        n = all_paths("off", offsum)
        if (n >= 3 && all_paths("co", cosum) == n) {
            for (i = 1; i <= n; i++)
                r[i] = offsum[i] / cosum[i]
            x = median(r, n)
            a = spread_of(offsum, n)
            b = spread_of(cosum, n)
            sn = a > b ? a : b
            printf "tracing off vs compiled out, all four paths: %+.1f %% (median of the rounds' ratios); noise %.1f %% -> %s\n", (x - 1) * 100, sn * 100, (x - 1 < 0 ? 1 - x : x - 1) <= sn ? "within noise" : "MEASURABLE"
        }
        printf "\n"
    }
    if (seen["kernel"]) {
        printf "== the Linux kernel in the same run: loopback sendto + recv (tx path + rx path + 2 system calls) ==\n"
        printf "%-44s%-22s%-22s\n", "", "ipv4", "ipv6"
        printf "%-44s", "kernel, ns per datagram CPU (wall)"
        for (f = 4; f <= 6; f += 2)
            printf "%-22s", ns_cell("kernel" SUBSEP "loopback" SUBSEP "ipv" f SUBSEP "txrx")
        printf "\n"
        nv = split("co,off,on", vs, ",")
        split("compiled out,tracing off,tracing on", vname, ",")
        for (v = 1; v <= nv; v++) {
            printf "%-44s", "wskstack (rx + tx) / kernel, " vname[v]
            for (f = 4; f <= 6; f += 2) {
                kk = "kernel" SUBSEP "loopback" SUBSEP "ipv" f SUBSEP "txrx"
                rx = "trace" SUBSEP vs[v] SUBSEP "ipv" f SUBSEP "rx"
                tx = "trace" SUBSEP vs[v] SUBSEP "ipv" f SUBSEP "tx"
                x = ratio_sum(rx, tx, kk, "cpu")
                printf "%-22s", x < 0 ? "-" : sprintf("%.2f [%.2f..%.2f]", x, RMIN, RMAX)
            }
            printf "\n"
        }
        printf "\n"
    }
    if (seen["tap"]) {
        printf "== real I/O: %s datagrams of IPv4/UDP, delivered per second at a kernel socket (recvmmsg x64) ==\n", count["tap"]
        ws = "tap" SUBSEP "wskstack" SUBSEP "ipv4" SUBSEP "tx"
        ks = "tap" SUBSEP "kernel-sendto" SUBSEP "ipv4" SUBSEP "tx"
        km = "tap" SUBSEP "kernel-sendmmsg" SUBSEP "ipv4" SUBSEP "tx"
        printf "%-46s%10.0f\n", "wskstack WskSendTo -> TAP -> kernel socket", med(ws, "value")
        printf "%-46s%10.0f\n", "kernel sendto -> veth -> kernel socket", med(ks, "value")
        printf "%-46s%10.0f\n", "kernel sendmmsg x64 -> veth -> kernel socket", med(km, "value")
        printf "%-46s%s\n", "wskstack / kernel sendto", ratio_cell(ws, ks, "value")
        printf "%-46s%s\n", "wskstack / kernel sendmmsg x64", ratio_cell(ws, km, "value")
        printf "\n"
    }
}
