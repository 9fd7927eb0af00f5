#!/usr/bin/env python3
"""Summarizes bench/scaling.sh's results.jsonl as one markdown table.

One run of a shape at one worker count is several bench processes measuring
the same server at once: its deliveries/s is their sum, the server's busy
cores the mean over the benches of server CPU seconds / window seconds (their
windows overlap), and CPU per delivery the one over the other. Each figure is
then the median over runs; "x workers=1" compares deliveries/s with the
shape's first worker count.
"""
import json
import statistics
import sys
from collections import OrderedDict

from summarize import fmt


def load(path):
    runs = OrderedDict()
    with open(path) as lines:
        for line in lines:
            line = line.strip()
            if line:
                record = json.loads(line)
                key = (record["shape"], record["workers"], record["run"])
                runs.setdefault(key, []).append(record)
    return runs


def combine(benches):
    deliveries = sum(b["deliveries_per_s"] for b in benches)
    cores = statistics.mean(b["server_cpu_s"] / b["duration_s"] for b in benches)
    return {
        "benches": len(benches),
        "receivers": sum(b["receivers"] for b in benches),
        "deliveries_per_s": deliveries,
        "server_cores": cores,
        "cpu_us_per_delivery": cores * 1e6 / deliveries if deliveries else None,
        "p50_us": statistics.median(b["latency_us"]["p50"] for b in benches),
        "p99_us": max(b["latency_us"]["p99"] for b in benches),
        "lost": sum(b["lost"] for b in benches),
        "bench_cores": max(b["bench_cpu_s"] / b["duration_s"] for b in benches),
    }


def main(path):
    per_point = OrderedDict()
    for (shape, workers, _run), benches in load(path).items():
        per_point.setdefault((shape, workers), []).append(combine(benches))
    rows = ["| shape | workers | benches | receivers | deliveries/s | x workers=1 | "
            "server cores busy | server CPU us/delivery | p50 ms | p99 ms | lost | "
            "busiest bench core |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    baseline = {}
    for (shape, workers), runs in per_point.items():
        def median(field):
            values = [r[field] for r in runs if r[field] is not None]
            return statistics.median(values) if values else None
        deliveries = median("deliveries_per_s")
        baseline.setdefault(shape, deliveries)
        speedup = deliveries / baseline[shape] if baseline[shape] else None
        rows.append("| {} | {} | {} | {:,} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            shape, workers, runs[0]["benches"], runs[0]["receivers"], fmt(deliveries, 0),
            fmt(speedup, 2), fmt(median("server_cores"), 2),
            fmt(median("cpu_us_per_delivery"), 3), fmt(median("p50_us"), 2, 1e-3),
            fmt(median("p99_us"), 2, 1e-3), max(r["lost"] for r in runs),
            fmt(median("bench_cores"), 2)))
    print("\n".join(rows))


if __name__ == "__main__":
    main(sys.argv[1])
