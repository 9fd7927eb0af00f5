#!/usr/bin/env python3
"""Summarizes bench/cluster.sh's results.jsonl as markdown tables.

Each figure is the median over a scenario's runs. Server CPU is the sum over
every sampled process (the nodes and redis-server); the per-process columns
split it by role. "x S1" divides a scenario's server CPU per delivery by
S1's at the same rate, from the same results file.
"""
import json
import sys
from collections import OrderedDict

from summarize import fmt, median  # the S1-S6 summary's, beside this file


def load(path):
    groups = OrderedDict()
    with open(path) as lines:
        for line in lines:
            line = line.strip()
            if line:
                record = json.loads(line)
                name = record["scenario"]
                # Redis on other CPUs than the nodes is another measurement.
                if record.get("redis_cpus", "any") not in ("any", record.get("node_cpus")):
                    name += " (redis on CPU %s)" % record["redis_cpus"]
                groups.setdefault(name, []).append(record)
    return groups


def role_cpu_us(record, role, per):
    """CPU us of one role's process per `per` (deliveries or publications)."""
    for entry in record.get("server_pids") or []:
        if entry.get("role") == role and entry.get("cpu_s") is not None and record[per]:
            return entry["cpu_s"] * 1e6 / record[per]
    return None


def role_cores(record, role):
    for entry in record.get("server_pids") or []:
        if entry.get("role") == role and entry.get("cpu_s") is not None and record["duration_s"]:
            return entry["cpu_s"] / record["duration_s"]
    return None


def engine_trouble(record):
    """Publish errors, reconnects and interruptions over every node."""
    total = 0
    for figures in (record.get("node_metrics") or {}).values():
        for key in ("herald_engine_publish_errors_total", "herald_engine_reconnects_total",
                    "herald_engine_interruptions_total"):
            total += int(figures.get(key, 0))
    return total


def rate_of(scenario):
    return scenario.split("rate=")[1].split()[0] if "rate=" in scenario else "max"


def fanout_table(groups):
    names = [s for s in groups if s.startswith("S1") or s.startswith("S7")]
    if not names:
        return [], {}
    baseline = {}
    for name in names:
        if name.startswith("S1"):
            baseline[rate_of(name)] = median(
                r["server_cpu_us_per_delivery"] for r in groups[name])
    rows = ["### S1 and S7: fan-out, one node (memory) and two nodes on Redis", "",
            "| scenario | engine | nodes | subscribers | rate | runs | deliveries/s "
            "| server CPU us/delivery "
            "| x S1 | node-a | node-b | redis | p50 ms | p99 ms | p99.9 ms | lost | engine errors "
            "| bench CPU us/delivery |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
            "| --- | --- | --- | --- |"]
    figures = {}
    for name in names:
        records = groups[name]
        cpu = median(r["server_cpu_us_per_delivery"] for r in records)
        base = baseline.get(rate_of(name))
        ratio = cpu / base if cpu and base else None
        p50 = median(r["latency_us"]["p50"] for r in records)
        figures[name] = {"cpu": cpu, "ratio": ratio, "p50_us": p50}
        rows.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} "
                    "| {} | {} | {} |".format(
                        name.replace(" rate=" + rate_of(name), ""), records[0]["engine"],
                        records[0]["nodes"],
                        records[0]["subscribers"], rate_of(name), len(records),
                        fmt(median(r["deliveries_per_s"] for r in records), 0),
                        fmt(cpu, 3), fmt(ratio, 2),
                        fmt(median(role_cpu_us(r, "node-a", "deliveries") for r in records), 3),
                        fmt(median(role_cpu_us(r, "node-b", "deliveries") for r in records), 3),
                        fmt(median(role_cpu_us(r, "redis", "deliveries") for r in records), 3),
                        fmt(p50, 2, 1e-3),
                        fmt(median(r["latency_us"]["p99"] for r in records), 2, 1e-3),
                        fmt(median(r["latency_us"]["p999"] for r in records), 2, 1e-3),
                        max(r["lost"] for r in records),
                        max(engine_trouble(r) for r in records),
                        fmt(median(r["bench_cpu_us_per_delivery"] for r in records), 3)))
    return rows, figures


def publish_table(groups):
    names = [s for s in groups if s.startswith("S8")]
    if not names:
        return []
    rows = ["### S8: publish throughput into Redis (one node, 64 publishers, a channel each)", "",
            "| scenario | runs | publications/s | server CPU us/publication | node us/publication "
            "| redis us/publication | redis CPU (cores) | p50 ms | p99 ms | lost | refused "
            "| engine errors |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in names:
        records = groups[name]
        rows.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            name, len(records),
            fmt(median(r["published_per_s"] for r in records), 0),
            fmt(median(r["server_cpu_s"] * 1e6 / r["published"]
                       if r["server_cpu_s"] is not None and r["published"] else None
                       for r in records), 3),
            fmt(median(role_cpu_us(r, "node-a", "published") for r in records), 3),
            fmt(median(role_cpu_us(r, "redis", "published") for r in records), 3),
            fmt(median(role_cores(r, "redis") for r in records), 2),
            fmt(median(r["latency_us"]["p50"] for r in records), 2, 1e-3),
            fmt(median(r["latency_us"]["p99"] for r in records), 2, 1e-3),
            max(r["lost"] for r in records),
            max(sum(r["command_errors"].values()) for r in records),
            max(engine_trouble(r) for r in records)))
    return rows


def targets_table(figures):
    rows = []
    s7, s1 = figures.get("S7"), figures.get("S1")
    if s7 and s7["ratio"] is not None:
        rows.append("| S7: server CPU per delivery (both nodes and Redis) within 1.3x of S1 "
                    "| {} vs {} us ({}x) | {} |".format(
                        fmt(s7["cpu"], 3), fmt(s1["cpu"], 3), fmt(s7["ratio"], 2),
                        "met" if s7["ratio"] <= 1.3 else "**not met**"))
    for name in figures:
        if not name.startswith("S7 rate="):
            continue
        s7r, s1r = figures[name], figures.get("S1 " + name.split()[1])
        if not s1r or s7r["p50_us"] is None or s1r["p50_us"] is None:
            continue
        added = (s7r["p50_us"] - s1r["p50_us"]) / 1e3
        rows.append("| the Redis hop adds under 1 ms to p50 at {} publications/s "
                    "| p50 {} vs {} ms ({:+.2f} ms) | {} |".format(
                        rate_of(name), fmt(s7r["p50_us"], 2, 1e-3), fmt(s1r["p50_us"], 2, 1e-3),
                        added, "met" if added < 1.0 else "**not met**"))
    if not rows:
        return []
    return ["### Against the targets", "", "| target | measured | |", "| --- | --- | --- |"] + rows


def main(path):
    groups = load(path)
    fanout, figures = fanout_table(groups)
    out = []
    for block in (fanout, publish_table(groups), targets_table(figures)):
        if block:
            out += block + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
