#!/usr/bin/env python3
"""Helpers of bench/cluster.sh (loopback only).

  cluster_record.py wait-engine PORT [SECONDS]
      Waits until the node on 127.0.0.1:PORT reports herald_engine_up 1 on
      /metrics (its Redis connections are up); exit 1 after SECONDS (10).

  cluster_record.py record BENCH_JSON SCENARIO ENGINE NODES RUN ROLES
                    [tag:KEY=VALUE ...] [ROLE=PORT ...]
      Prints herald-bench's JSON line tagged with scenario, engine, nodes and
      run, and each KEY=VALUE (as a string); ROLES (comma-separated) names
      the --server-pid entries in order (server_pids[i].role). Each ROLE=PORT node's counters from /metrics,
      read after the run, go under node_metrics[ROLE]: publications its
      clients made, deliveries, Redis commands, and the engine's errors,
      reconnects and interruptions, which tell where a loss across nodes
      happened.
"""
import json
import sys
import time
import urllib.request

COUNTERS = (
    "herald_publications_total",
    "herald_deliveries_total",
    "herald_engine_up",
    "herald_engine_commands_total",
    "herald_engine_writes_total",
    "herald_engine_publish_errors_total",
    "herald_engine_reconnects_total",
    "herald_engine_interruptions_total",
)


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as response:
        text = response.read().decode()
    figures = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in COUNTERS:
            figures[parts[0]] = float(parts[1])
    return figures


def wait_engine(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if scrape(port).get("herald_engine_up") == 1:
                return 0
        except OSError:
            pass
        time.sleep(0.05)
    print("cluster: the node on port %d did not report herald_engine_up 1" % port,
          file=sys.stderr)
    return 1


def record(path, scenario, engine, nodes, run, roles, extra):
    with open(path) as source:
        report = json.loads(source.read())
    for entry, role in zip(report.get("server_pids") or [], roles.split(",")):
        entry["role"] = role
    report.update(scenario=scenario, engine=engine, nodes=int(nodes), run=int(run))
    node_ports = []
    for item in extra:
        if item.startswith("tag:"):
            key, value = item[4:].split("=", 1)
            report[key] = value
        else:
            node_ports.append(item)
    metrics = {}
    if node_ports:
        # The engine's figures reach /metrics up to 1.5 s late (the Redis
        # thread's 500 ms, then the broadcaster's 1 s tick).
        time.sleep(1.6)
    for pair in node_ports:
        role, port = pair.split("=")
        try:
            metrics[role] = scrape(int(port))
        except OSError as error:
            metrics[role] = {"error": str(error)}
    report["node_metrics"] = metrics
    print(json.dumps(report))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "wait-engine":
        return wait_engine(int(argv[1]), float(argv[2]) if len(argv) > 2 else 10.0)
    if len(argv) >= 7 and argv[0] == "record":
        return record(*argv[1:7], argv[7:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
