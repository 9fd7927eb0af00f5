#include <catch2/catch.hpp>

#include <string>

#include "herald/core/metrics.hpp"

using herald::core::close_code_slot;
using herald::core::counted_close_codes;
using herald::core::metrics_snapshot;
using herald::core::render_prometheus;

TEST_CASE("close codes map to their own slot, others to the last", "[metrics]") {
  CHECK(close_code_slot(1000) == 0);
  CHECK(close_code_slot(3503) == counted_close_codes.size() - 1);
  CHECK(close_code_slot(3008) < counted_close_codes.size());
  CHECK(close_code_slot(1011) == counted_close_codes.size());
  CHECK(close_code_slot(4000) == counted_close_codes.size());
}

TEST_CASE("render_prometheus writes every family with HELP and TYPE", "[metrics]") {
  metrics_snapshot m;
  m.by_protocol[herald::core::index_of(herald::core::protocol::ws)].connections = 3;
  m.by_protocol[herald::core::index_of(herald::core::protocol::ws)].compressed = 2;
  m.by_protocol[herald::core::index_of(herald::core::protocol::centrifuge)].slow_disconnects = 4;
  m.api_requests = 5;
  m.publications = 7;
  m.deliveries = 21;
  m.rounds = 3;
  m.disconnects[close_code_slot(1008)] = 2;
  m.disconnects[close_code_slot(4321)] = 1;
  m.resident_bytes = 4096;
  m.cpu_seconds = 1.5;
  const std::string text = render_prometheus(m);
  CHECK(text.find("# TYPE herald_connections gauge\n") != std::string::npos);
  CHECK(text.find("herald_connections{protocol=\"ws\"} 3\n") != std::string::npos);
  CHECK(text.find("herald_connections{protocol=\"centrifuge\"} 0\n") != std::string::npos);
  CHECK(text.find("# TYPE herald_compressed_connections gauge\n") != std::string::npos);
  CHECK(text.find("herald_compressed_connections{protocol=\"ws\"} 2\n") != std::string::npos);
  CHECK(text.find("herald_slow_disconnects_total{protocol=\"centrifuge\"} 4\n") !=
        std::string::npos);
  CHECK(text.find("herald_api_requests_total 5\n") != std::string::npos);
  CHECK(text.find("herald_publications_total 7\n") != std::string::npos);
  CHECK(text.find("herald_deliveries_total 21\n") != std::string::npos);
  CHECK(text.find("herald_rounds_total 3\n") != std::string::npos);
  CHECK(text.find("herald_disconnects_total{code=\"1008\"} 2\n") != std::string::npos);
  CHECK(text.find("herald_disconnects_total{code=\"other\"} 1\n") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes 4096\n") != std::string::npos);
  CHECK(text.find("process_cpu_seconds_total 1.5\n") != std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("read_process_stats reads this process's RSS and CPU time", "[metrics]") {
  metrics_snapshot m;
  herald::core::read_process_stats(m);
  CHECK(m.resident_bytes > 0);
  CHECK(m.cpu_seconds >= 0);
}
