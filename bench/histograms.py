#!/usr/bin/env python3
"""Prints quantiles of Inlet's latency histograms between two /_inlet/metrics snapshots.

usage: histograms.py BEFORE AFTER

Quantiles are interpolated linearly inside a bucket, as Prometheus' histogram_quantile does, so
they are only as fine as the buckets (1 ms steps between 1 and 5 ms).
"""
import re
import sys

LINE = re.compile(r'^(\w+)_bucket\{(?:(.*),)?le="([^"]+)"\} (\d+)$')
SUM = re.compile(r'^(\w+)_sum(\{.*\})? (\S+)$')


def read(path):
    """{name{labels}: [(le, cumulative count)]} and {name{labels}: sum}"""
    buckets, sums = {}, {}
    with open(path) as f:
        for line in f:
            m = LINE.match(line.strip())
            if m:
                name = m.group(1) + ("{" + m.group(2) + "}" if m.group(2) else "")
                le = float("inf") if m.group(3) == "+Inf" else float(m.group(3))
                buckets.setdefault(name, []).append((le, int(m.group(4))))
                continue
            m = SUM.match(line.strip())
            if m:
                sums[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return buckets, sums


def quantile(q, cumulative):
    total = cumulative[-1][1]
    if total == 0:
        return None
    rank, lower, below = q * total, 0.0, 0
    for le, n in cumulative:
        if n >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * (rank - below) / max(n - below, 1)
        lower, below = le, n
    return lower


def main():
    (before, sums_before), (after, sums_after) = read(sys.argv[1]), read(sys.argv[2])
    for name, rows in after.items():
        prev = dict(before.get(name, []))
        delta = [(le, n - prev.get(le, 0)) for le, n in rows]
        count = delta[-1][1]
        if count == 0:
            continue
        mean = (sums_after.get(name, 0) - sums_before.get(name, 0)) / count
        p50, p99 = quantile(0.5, delta), quantile(0.99, delta)
        if "_seconds" in name:
            print("%s: %d, mean %.2f ms, p50 %.2f ms, p99 %.2f ms"
                  % (name, count, mean * 1e3, p50 * 1e3, p99 * 1e3))
        else:
            print("%s: %d, mean %.1f, p50 %.0f, p99 %.0f" % (name, count, mean, p50, p99))


if __name__ == "__main__":
    main()
