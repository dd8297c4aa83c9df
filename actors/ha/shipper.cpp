// The leader's side of replication (see replication.hpp): each batch the
// log writes goes to every replica that follows on, at most `window`
// ahead of what it reported; appends are acknowledged once their batch is
// durable here and on min_replicas replicas of this epoch, while the lease
// holds; a replica behind the batches kept, or holding some this leader
// lacks, is sent a checkpoint by a sender of its own.
#include "actors/ha/replication.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "config/json_writer.hpp"
#include "runtime/message_tally.hpp"
#include "runtime/replica_quorum.hpp"

namespace nexus::actors {

namespace {

// -- the checkpoint sender: one checkpoint, file by file, chunk by chunk ----

struct sender_state {
  caf::actor replica;
  std::string dir;
  std::size_t chunk_bytes = 0;
  storage::replication_mark mark;
  std::vector<std::string> files;
  std::size_t file = 0;
  std::ifstream in;
  static inline const char* name = "nexus.checkpoint_sender";
};

using sender_actor = caf::stateful_actor<sender_state>;

void give_up(sender_actor* self, const std::string& why) {
  spdlog::error("checkpoint for a replica not sent: {}", why);
  std::error_code ec;
  std::filesystem::remove_all(self->state.dir, ec);
  self->quit();
}

/// Sends the next chunk, or the mark once every file is sent; one at a
/// time, each answered before the next (the replica writes it first).
void send_next(sender_actor* self) {
  auto& st = self->state;
  while (st.file < st.files.size() && !st.in.is_open()) {
    st.in.open(st.dir + "/" + st.files[st.file], std::ios::binary);
    if (!st.in)
      return give_up(self, "cannot read " + st.dir + "/" + st.files[st.file]);
  }
  auto on_error = [self](caf::error& err) {
    runtime::count_message();
    give_up(self, "the replica did not take it: " + to_string(err));
  };
  if (st.file == st.files.size()) {
    self->request(st.replica, caf::infinite, checkpoint_atom::value, st.mark.epoch,
                  st.mark.position)
      .then(
        [self](bool) {
          runtime::count_message();
          std::error_code ec;
          std::filesystem::remove_all(self->state.dir, ec);
          self->quit();
        },
        on_error);
    return;
  }
  std::string chunk(st.chunk_bytes, '\0');
  st.in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<std::size_t>(st.in.gcount()));
  if (st.in.bad())
    return give_up(self, "cannot read " + st.dir + "/" + st.files[st.file]);
  auto name = st.files[st.file];
  if (st.in.eof()) {
    st.in.close();
    st.in.clear();
    ++st.file;
  }
  self->request(st.replica, caf::infinite, checkpoint_atom::value, std::move(name),
                std::move(chunk))
    .then(
      [self](bool ok) {
        runtime::count_message();
        if (!ok)
          return give_up(self, "the replica could not write it");
        send_next(self);
      },
      on_error);
}

caf::behavior checkpoint_sender(sender_actor* self, storage::event_log* log, caf::actor replica,
                                std::string dir, std::size_t chunk_bytes) {
  auto& st = self->state;
  st.replica = std::move(replica);
  st.dir = std::move(dir);
  st.chunk_bytes = chunk_bytes;
  std::error_code ec;
  std::filesystem::remove_all(st.dir, ec);
  std::filesystem::create_directories(std::filesystem::path{st.dir}.parent_path(), ec);
  if (auto made = log->checkpoint(st.dir, st.mark); !made) {
    give_up(self, made.message());
    return {};
  }
  // Every file, the empty ones too, so that each is created on the replica.
  for (auto& entry : std::filesystem::directory_iterator(st.dir, ec))
    if (entry.is_regular_file())
      st.files.push_back(entry.path().filename().string());
  std::sort(st.files.begin(), st.files.end());
  spdlog::info("sending a checkpoint of {} files to a replica (through batch {} of epoch {})",
               st.files.size(), st.mark.position, st.mark.epoch);
  send_next(self);
  return {[](tick_atom) {}}; // what it waits for comes as answers
}

// -- the shipper ------------------------------------------------------------

struct follower {
  caf::actor replica;
  std::uint64_t next = 1;     ///< The next position to send it.
  std::uint64_t reported = 0; ///< The last position it reported durable, of any epoch.
  bool catching_up = false;
};

struct shipper_state {
  shipper_setup setup;
  std::unique_ptr<runtime::replica_quorum> quorum;
  std::deque<storage::replicated_batch> ring; ///< The latest batches, in position order.
  std::size_t ring_bytes = 0;
  std::uint64_t last = 0; ///< The last position the log shipped.
  std::deque<written_batch> held; ///< Durable here, waiting for the replicas or the lease.
  std::int64_t valid_until_us = 0;
  std::map<std::string, follower> followers;
  std::uint64_t checkpoints = 0;
  bool detached = true;
  static inline const char* name = "nexus.shipper";
};

using shipper_actor = caf::stateful_actor<shipper_state>;

/// Acknowledges what may be: in order, up to what min_replicas hold, and
/// only while the lease lets this leader acknowledge.
void release(shipper_actor* self) {
  auto& st = self->state;
  if (st.held.empty() || st.setup.now_us() >= st.valid_until_us)
    return;
  auto committed = st.quorum->committed();
  while (!st.held.empty() && st.held.front().position <= committed) {
    for (auto& a : st.held.front().acks)
      std::move(a).promise(self).deliver(ack_atom::value);
    st.held.pop_front();
  }
}

void catch_up(shipper_actor* self, const std::string& node, follower& f) {
  auto& st = self->state;
  if (f.catching_up)
    return;
  f.catching_up = true;
  st.quorum->follower_gone(node);
  auto name = node;
  for (auto& c : name) // a file name whatever the node is called
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      c = '_';
  auto dir = st.setup.checkpoint_dir + "/for-" + name + "-" + std::to_string(++st.checkpoints);
  spdlog::info("replica {} cannot follow on from batch {}: it catches up from a checkpoint", node,
               f.next - 1);
  // Linked: a sender waits for its replica's answers, and must not outlive
  // the shipper (~actor_system would wait for it for ever).
  if (st.detached)
    self->spawn<caf::detached + caf::linked>(checkpoint_sender, st.setup.log, f.replica, dir,
                                             st.setup.chunk_bytes);
  else
    self->spawn<caf::linked>(checkpoint_sender, st.setup.log, f.replica, dir,
                             st.setup.chunk_bytes);
}

/// Sends `node` what it lacks, within its window.
void pump(shipper_actor* self, const std::string& node, follower& f) {
  auto& st = self->state;
  while (!f.catching_up && f.next <= st.last && f.next <= f.reported + st.setup.window) {
    if (st.ring.empty() || f.next < st.ring.front().position)
      return catch_up(self, node, f);
    self->send(f.replica, ship_atom::value, st.ring[f.next - st.ring.front().position]);
    ++f.next;
  }
}

caf::behavior shipper(shipper_actor* self, shipper_setup setup, bool detached) {
  auto& st = self->state;
  st.quorum = std::make_unique<runtime::replica_quorum>(setup.min_replicas);
  st.setup = std::move(setup);
  st.detached = detached;
  self->set_down_handler([self](const caf::down_msg& down) {
    runtime::count_message();
    auto& st = self->state;
    for (auto i = st.followers.begin(); i != st.followers.end(); ++i) {
      if (i->second.replica.address() != down.source)
        continue;
      spdlog::warn("replica {} is gone: it counts no more", i->first);
      st.quorum->follower_gone(i->first);
      st.followers.erase(i);
      return;
    }
  });
  return {
    [=](ship_atom, storage::replicated_batch& b) {
      runtime::count_message();
      auto& st = self->state;
      st.last = b.position;
      st.ring_bytes += b.data.size();
      st.ring.push_back(std::move(b));
      while (st.ring.size() > 1 && st.ring_bytes > st.setup.ring_bytes) {
        st.ring_bytes -= st.ring.front().data.size();
        st.ring.pop_front();
      }
      for (auto& [node, f] : st.followers)
        pump(self, node, f);
    },
    [=](synced_atom, std::vector<written_batch>& written) {
      runtime::count_message();
      auto& st = self->state;
      for (auto& w : written) {
        st.quorum->local_durable(w.position);
        st.held.push_back(std::move(w));
      }
      release(self);
    },
    [=](lease_atom, std::int64_t valid_until_us) {
      runtime::count_message();
      self->state.valid_until_us = valid_until_us;
      release(self);
    },
    [=](follow_atom, const std::string& node, caf::actor& replica, std::uint64_t epoch,
        std::uint64_t position) {
      runtime::count_message();
      auto& st = self->state;
      self->monitor(replica);
      st.quorum->follower_gone(node); // until it holds this epoch's batches
      auto& f = st.followers[node];
      // Its last batch is sent again unless it is of this epoch: this
      // leader's own batch there shows the replica whether it holds the
      // same (a duplicate) or an older leader's (it catches up).
      auto resend = epoch != st.setup.epoch && position > 0;
      f = follower{std::move(replica), resend ? position : position + 1, position, false};
      spdlog::info("replica {} follows from batch {} of epoch {}", node, position, epoch);
      auto& before = st.setup.before;
      if (epoch < st.setup.epoch
          && (epoch > before.epoch || (epoch == before.epoch && position > before.position))) {
        spdlog::warn("replica {} holds a longer log (batch {} of epoch {}) than this leader had "
                     "(batch {} of epoch {}): it must lead, not this one",
                     node, position, epoch, before.position, before.epoch);
        st.quorum->follower_gone(node);
        st.followers.erase(node);
        if (st.setup.on_longer_log)
          st.setup.on_longer_log(node, epoch, position);
        return;
      }
      if (position > st.last) // it holds batches this leader never wrote
        return catch_up(self, node, f);
      // One leader an epoch: a replica whose last batch is of this one holds
      // this leader's batches up to it.
      if (epoch == st.setup.epoch)
        st.quorum->follower_durable(node, position);
      pump(self, node, f);
      release(self);
    },
    [=](durable_atom, const std::string& node, std::uint64_t epoch, std::uint64_t position) {
      runtime::count_message();
      auto& st = self->state;
      auto i = st.followers.find(node);
      if (i == st.followers.end())
        return;
      i->second.reported = std::max(i->second.reported, position);
      if (epoch == st.setup.epoch)
        st.quorum->follower_durable(node, position);
      pump(self, node, i->second);
      release(self);
    },
    [=](catch_up_atom, const std::string& node) {
      runtime::count_message();
      auto& st = self->state;
      if (auto i = st.followers.find(node); i != st.followers.end())
        catch_up(self, node, i->second);
    },
    [=](stats_atom) -> caf::result<std::uint64_t, std::uint64_t> {
      runtime::count_message();
      auto& st = self->state;
      return {st.quorum->committed(), static_cast<std::uint64_t>(st.quorum->replicas())};
    },
    [=](followers_atom) -> std::string {
      runtime::count_message();
      std::string out = "[";
      for (auto& [node, f] : self->state.followers) {
        if (out.size() > 1)
          out += ',';
        config::json_object_writer w{out};
        w.field("node", node).field("position", f.reported).field("catching_up", f.catching_up);
        w.finish();
      }
      return out + "]";
    },
  };
}

} // namespace

caf::actor spawn_shipper(caf::actor_system& sys, shipper_setup setup, bool detached) {
  if (!setup.now_us)
    setup.now_us = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
    };
  if (detached)
    return sys.spawn<caf::detached>(shipper, std::move(setup), detached);
  return sys.spawn(shipper, std::move(setup), detached);
}

} // namespace nexus::actors
