// Appends through the event-log writer actor against a plain RocksDB
// WriteBatch loop (bench::raw_write_loop, as nexus bench uses), side by
// side in one run, with the same record size, batch size and sync setting.
// Prints records/s of both and their ratio.
//
//   build/bench/nexus_log_bench [--records N] [--batch B] [--size BYTES]
//                               [--durability sync|async|none] [--dir DIR]
//
// The raw loop is the limit of the disk: one record per event. The writer
// path does more for the same records: each append also updates the saga's
// row and the global order index, as Nexus always does.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <caf/all.hpp>

#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "storage/event.hpp"
#include "storage/event_log.hpp"
#include "storage/keys.hpp"
#include "bench/raw_writes.hpp"

using namespace nexus;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
  std::uint64_t records = 200000;
  std::uint32_t batch = 100;
  std::uint32_t size = 200;
  std::uint32_t per_append = 2; ///< Events per append: a saga's transitions carry two.
  config::durability durability = config::durability::sync;
  std::string dir = "/tmp/nexus-log-bench";
};

std::string event_json(const std::string& cid, std::uint64_t seq, std::uint32_t size) {
  storage::event e;
  e.seq = seq;
  e.ts_us = 1764048767123456;
  e.cid = cid;
  e.type = storage::event_type::step_succeeded;
  e.saga = "bench";
  e.step = "step";
  e.attempt = 1;
  std::string out;
  storage::encode_event(e, out);
  if (out.size() + 16 < size) {
    e.output = "\"" + std::string(size - out.size() - 16, 'x') + "\"";
    out.clear();
    storage::encode_event(e, out);
  }
  return out;
}

/// The raw limit: bench::raw_write_loop, one record per event, as many
/// records, as large, in batches of the same size.
double raw_loop(const settings& s) {
  bench::raw_write_spec spec;
  spec.dir = s.dir;
  spec.durability = s.durability;
  spec.sagas = s.records;
  spec.records = {event_json("raw-0000000", 1, s.size)};
  spec.cid_of = [](std::uint64_t n) { return "raw-" + std::to_string(n % 1000); };
  spec.batch = s.batch;
  auto r = bench::raw_write_loop(spec);
  if (!r.error.empty()) {
    std::fprintf(stderr, "raw: %s\n", r.error.c_str());
    std::exit(1);
  }
  return static_cast<double>(r.records) / r.seconds;
}

/// `producers` actors, each running three-step sagas one after another as a
/// saga actor appends them: four appends of `per_append` events, each after
/// the last is acknowledged, with the saga row on the first and the last
/// (a status change), as make_append() does.
double writer_actor(const settings& s, double& events_per_batch) {
  std::filesystem::remove_all(s.dir);
  std::string err;
  auto log = storage::event_log::open(storage::log_options::writer(s.dir, s.durability), err);
  if (!log) {
    std::fprintf(stderr, "writer: %s\n", err.c_str());
    std::exit(1);
  }
  actors::system_config cfg{0};
  caf::actor_system sys{cfg};
  auto writer = actors::spawn_event_log_writer(sys, *log, s.batch);
  auto producers = s.batch; // enough appends waiting to fill every batch
  auto per_producer = s.records / producers / s.per_append * s.per_append;
  auto value = event_json("writer-0000", 1, s.size);
  auto start = clock_type::now();
  {
    caf::scoped_actor self{sys};
    caf::actor parent = self;
    for (std::uint32_t p = 0; p < producers; ++p) {
      sys.spawn([=](caf::event_based_actor* a) {
        auto cid = std::make_shared<std::string>("writer-" + std::to_string(p));
        auto seq = std::make_shared<std::uint64_t>(0);
        auto next = std::make_shared<std::function<void()>>();
        *next = [=] {
          if (*seq == per_producer) {
            a->send(parent, done_atom::value);
            *next = nullptr; // break the cycle
            return;
          }
          storage::append_request req;
          auto appends_per_saga = 4u;
          auto n = *seq / s.per_append; // appends made so far
          auto saga_no = n / appends_per_saga;
          auto in_saga = n % appends_per_saga;
          req.cid = *cid + "-" + std::to_string(saga_no);
          for (std::uint32_t e = 0; e < s.per_append; ++e)
            req.events.emplace_back(in_saga * s.per_append + e + 1, value);
          *seq += s.per_append;
          if (in_saga == 0 || in_saga + 1 == appends_per_saga) {
            req.row.emplace();
            req.row->saga = "bench";
            req.row->status = in_saga == 0 ? storage::saga_status::running : storage::saga_status::completed;
            req.row->last_seq = (in_saga + 1) * s.per_append;
            req.row->steps_total = 3;
          }
          a->request(writer, caf::infinite, append_atom::value, std::move(req))
            .then([next](ack_atom) { (*next)(); });
        };
        (*next)();
      });
    }
    for (std::uint32_t p = 0; p < producers; ++p)
      self->receive([](done_atom) {});
    self->request(writer, caf::infinite, stats_atom::value)
      .receive(
        [&](std::uint64_t events, std::uint64_t batches) {
          events_per_batch = static_cast<double>(events) / static_cast<double>(batches);
        },
        [](caf::error&) {});
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->wait_for(writer);
  }
  std::chrono::duration<double> took = clock_type::now() - start;
  return static_cast<double>(per_producer * producers) / took.count();
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--records")
      s.records = std::stoull(v);
    else if (k == "--batch")
      s.batch = static_cast<std::uint32_t>(std::stoul(v));
    else if (k == "--events-per-append")
      s.per_append = static_cast<std::uint32_t>(std::max(1ul, std::stoul(v)));
    else if (k == "--size")
      s.size = static_cast<std::uint32_t>(std::stoul(v));
    else if (k == "--dir")
      s.dir = v;
    else if (k == "--durability")
      s.durability = v == "none" ? config::durability::none
                     : v == "async" ? config::durability::async
                                    : config::durability::sync;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::printf("records %llu, batch %u, record size %u bytes, %u events per append, "
              "durability %s, dir %s\n",
              static_cast<unsigned long long>(s.records), s.batch, s.size, s.per_append,
              std::string{config::to_string(s.durability)}.c_str(), s.dir.c_str());
  auto raw = raw_loop(s);
  double per_batch = 0;
  auto actor = writer_actor(s, per_batch);
  std::filesystem::remove_all(s.dir);
  std::printf("%-34s %12.0f records/s\n", "raw RocksDB WriteBatch loop", raw);
  std::printf("%-34s %12.0f records/s\n", "writer actor (events+row+index)", actor);
  std::printf("%-34s %12.1f (raw: %u)\n", "writer: events per write", per_batch, s.batch);
  std::printf("%-34s %12.2f\n", "ratio writer/raw", actor / raw);
  return 0;
}
