// The raw baselines `nexus bench` compares Nexus with: a plain RocksDB write
// loop and plain CAF messaging in the pattern of a saga.
#include <filesystem>
#include <fstream>
#include <vector>
#include <string>

#include <boost/test/unit_test.hpp>

#include "bench/raw_messaging.hpp"
#include "bench/raw_sync.hpp"
#include "bench/raw_writes.hpp"
#include "storage/keys.hpp"
#include "tests/temp_dir.hpp"

namespace bench_baselines_test {

using namespace nexus;
using namespace nexus::bench;

BOOST_AUTO_TEST_SUITE(bench_baselines)

BOOST_AUTO_TEST_CASE(the_raw_messaging_run_ends_every_saga_with_a_runs_message_count) {
  // Fewer in flight than sagas: each ended saga makes room for the next.
  raw_messaging_spec spec;
  spec.threads = 2;
  spec.sagas = 500;
  spec.steps = 3;
  spec.in_flight = 40;
  std::uint64_t last_told = 0;
  auto r = run_raw_messaging(spec, [&](std::uint64_t n) {
    BOOST_TEST(n >= last_told);
    last_told = n;
  });
  BOOST_TEST(r.sagas == 500u);
  BOOST_TEST(r.messages == 500u * 15u);
  BOOST_TEST(messages_per_saga(3) == 15u);
  BOOST_TEST(r.seconds > 0.0);
}

BOOST_AUTO_TEST_CASE(the_raw_sync_loop_times_syncs_alone_and_beside_a_flush_and_leaves_nothing) {
  nexus::test::temp_dir dir;
  raw_sync_spec spec;
  spec.dir = dir.path() + "/sync";
  spec.write_bytes = 4096;
  spec.flush_bytes = 2 << 20;
  spec.flush_every_seconds = 0.1;
  spec.seconds = 0.3;
  std::vector<std::string> halves;
  auto r = raw_sync_loop(spec, [&](const char* half) { halves.emplace_back(half); });
  BOOST_TEST(r.error.empty(), r.error);
  BOOST_TEST(halves == (std::vector<std::string>{"alone", "beside a flush"}));
  for (auto* h : {&r.alone, &r.beside_flush}) {
    BOOST_TEST(h->syncs > 0u);
    BOOST_TEST(h->p50_ms > 0.0);
    BOOST_TEST(h->p50_ms <= h->p99_ms);
    BOOST_TEST(h->p99_ms <= h->max_ms * 1.02);
    BOOST_TEST(h->stalled_share >= 0.0);
    BOOST_TEST(h->stalled_share <= 1.0);
  }
  BOOST_TEST(r.flushed_bytes >= spec.flush_bytes); // one file at least, begun at once
  BOOST_TEST(std::filesystem::is_empty(spec.dir)); // its files removed
}

BOOST_AUTO_TEST_CASE(the_raw_sync_loop_names_the_file_it_could_not_make) {
  nexus::test::temp_dir dir;
  raw_sync_spec spec;
  spec.dir = dir.path() + "/a-file";
  { std::ofstream{spec.dir} << "not a directory"; }
  spec.seconds = 0.05;
  auto r = raw_sync_loop(spec);
  BOOST_TEST(r.error.find("open " + spec.dir + "/raw-sync.wal: ") == 0u, r.error);
  BOOST_TEST(r.alone.syncs == 0u);
}

BOOST_AUTO_TEST_CASE(the_raw_write_loop_writes_every_record_under_its_event_key) {
  nexus::test::temp_dir dir;
  raw_write_spec spec;
  spec.dir = dir.path() + "/raw";
  spec.durability = config::durability::none;
  spec.sagas = 25;
  spec.records = {"one", "two!", "three"};
  spec.cid_of = [](std::uint64_t n) { return "saga-" + std::to_string(n); };
  spec.batch = 7;
  std::uint64_t told = 0;
  auto r = raw_write_loop(spec, [&](std::uint64_t records) { told = records; });
  BOOST_TEST(r.error.empty(), r.error);
  BOOST_TEST(r.records == 75u);
  BOOST_TEST(r.batches == 11u); // 10 of 7 and the last of 5
  std::uint64_t key_bytes = 0;
  for (std::uint64_t n = 1; n <= 25; ++n)
    for (std::uint64_t seq = 1; seq <= 3; ++seq)
      key_bytes += storage::event_key("saga-" + std::to_string(n), seq).size();
  BOOST_TEST(r.bytes == key_bytes + 25u * (3 + 4 + 5));
  BOOST_TEST(r.seconds > 0.0);
  BOOST_TEST(told == 0u); // told every 64 batches: there were fewer
  BOOST_TEST(!std::filesystem::exists(spec.dir)); // removed when done
}

BOOST_AUTO_TEST_CASE(the_raw_write_loop_names_a_directory_it_cannot_use) {
  nexus::test::temp_dir dir;
  auto file = dir.write("a-file", "x");
  raw_write_spec spec;
  spec.dir = file + "/raw";
  spec.sagas = 1;
  spec.records = {"x"};
  spec.cid_of = [](std::uint64_t) { return std::string{"s"}; };
  auto r = raw_write_loop(spec);
  BOOST_TEST(r.error.find(spec.dir) != std::string::npos, r.error);
  BOOST_TEST(r.records == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace bench_baselines_test
