#!/usr/bin/env python3
"""Summarizes bench/run-scenarios.sh's results.jsonl as markdown tables.

Each figure is the median over a scenario's runs for one server; "x Herald"
is the server's median CPU per delivery (or RSS per connection) divided by
Herald's, from the same run of the script.
"""
import json
import statistics
import sys
from collections import OrderedDict


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=2, scale=1.0):
    if value is None:
        return "-"
    return f"{value * scale:,.{digits}f}"


def load(path):
    groups = OrderedDict()
    with open(path) as lines:
        for line in lines:
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            groups.setdefault(record["label"], OrderedDict()).setdefault(
                record["server"], []).append(record)
    return groups


def summarize_load(label, servers):
    herald = servers.get("herald")
    herald_cpu = median(r["server_cpu_us_per_delivery"] for r in herald) if herald else None
    # Compression runs: the bytes each delivery took on the wire, and the
    # server's memory at the end of the window.
    wire = any(r.get("compression") for records in servers.values() for r in records)
    rows = [f"### {label}", "",
            "| server | runs | deliveries/s | server CPU us/delivery | x Herald | "
            "p50 ms | p99 ms | p99.9 ms | lost | bench CPU us/delivery |"
            + (" received B/delivery | server RSS MiB |" if wire else ""),
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
            + (" --- | --- |" if wire else "")]
    for name, records in servers.items():
        cpu = median(r["server_cpu_us_per_delivery"] for r in records)
        ratio = cpu / herald_cpu if cpu and herald_cpu else None
        extra = ""
        if wire:
            extra = " {} | {} |".format(
                fmt(median(r.get("received_bytes_per_delivery") for r in records), 0),
                fmt(median(r.get("server_rss_bytes") for r in records), 1, 1 / 1048576))
        rows.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            name, len(records),
            fmt(median(r["deliveries_per_s"] for r in records), 0),
            fmt(cpu, 3), fmt(ratio, 1),
            fmt(median(r["latency_us"]["p50"] for r in records), 2, 1e-3),
            fmt(median(r["latency_us"]["p99"] for r in records), 2, 1e-3),
            fmt(median(r["latency_us"]["p999"] for r in records), 2, 1e-3),
            max(r["lost"] for r in records),
            fmt(median(r["bench_cpu_us_per_delivery"] for r in records), 3)) + extra)
    return rows


def summarize_idle(label, servers):
    herald = servers.get("herald")
    herald_rss = median(r["rss_per_connection_bytes"] for r in herald) if herald else None
    rows = [f"### {label}", "",
            "| server | runs | connections | RSS per connection KB | x Herald | server RSS MiB |",
            "| --- | --- | --- | --- | --- | --- |"]
    for name, records in servers.items():
        per_conn = median(r["rss_per_connection_bytes"] for r in records)
        ratio = per_conn / herald_rss if per_conn and herald_rss else None
        rows.append("| {} | {} | {} | {} | {} | {} |".format(
            name, len(records),
            fmt(median(r["connections_ok"] for r in records), 0),
            fmt(per_conn, 2, 1e-3), fmt(ratio, 1),
            fmt(median(r["server_rss_bytes"] for r in records), 1, 1 / 1048576)))
    return rows


def summarize_sweep(groups):
    """One row per load shape of --sweep, the servers side by side."""
    sweep = OrderedDict((label[len("sweep "):], servers)
                        for label, servers in groups.items() if label.startswith("sweep "))
    if not sweep:
        return []
    names = []
    for servers in sweep.values():
        names += [name for name in servers if name not in names]
    # CPU per delivery, and in brackets the part of it in user space (the
    # server's own code and libraries; the rest is system calls).
    header = "| load | " + " | ".join(
        f"{name} us/delivery (user) | {name} p50 / p99 / p99.9 ms" for name in names) + " |"
    rows = ["### Sweep (medians)", "", header,
            "| --- |" + " --- | --- |" * len(names)]
    for shape, servers in sweep.items():
        cells = []
        for name in names:
            records = servers.get(name)
            if not records:
                cells += ["-", "-"]
                continue
            cpu = fmt(median(r["server_cpu_us_per_delivery"] for r in records), 3)
            user = median(r.get("server_user_cpu_us_per_delivery") for r in records)
            cells.append(cpu if user is None else f"{cpu} ({fmt(user, 3)})")
            cells.append(" / ".join(
                fmt(median(r["latency_us"][p] for r in records), 2, 1e-3)
                for p in ("p50", "p99", "p999")))
        rows.append(f"| {shape} | " + " | ".join(cells) + " |")
    return rows + [""]


def main():
    groups = load(sys.argv[1])
    out = summarize_sweep(groups)
    for label, servers in groups.items():
        first = next(iter(servers.values()))[0]
        if first.get("mode") == "idle":
            out += summarize_idle(label, servers)
        else:
            out += summarize_load(label, servers)
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
