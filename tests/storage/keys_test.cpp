#include <boost/test/unit_test.hpp>

#include "storage/correlation_id.hpp"
#include "storage/keys.hpp"

namespace storage_keys_test {

using namespace nexus::storage;

BOOST_AUTO_TEST_SUITE(keys)

// Persisted: if this test fails, existing event logs can no longer be read.
BOOST_AUTO_TEST_CASE(event_key_layout_is_cid_zero_byte_big_endian_seq) {
  auto key = event_key("ord-1", 258);
  BOOST_TEST(key == std::string("ord-1\0\0\0\0\0\0\0\x01\x02", 14));
}

BOOST_AUTO_TEST_CASE(event_keys_sort_by_sequence_number) {
  BOOST_TEST(event_key("c", 255) < event_key("c", 256));
  BOOST_TEST(event_key("c", 1) < event_key("c", 1ull << 40));
}

BOOST_AUTO_TEST_CASE(a_prefix_of_one_id_never_matches_keys_of_a_longer_id) {
  auto prefix = event_prefix("a");
  auto other = event_key("ab", 1);
  BOOST_TEST(other.compare(0, prefix.size(), prefix) != 0);
  // and all keys of "a" sort before all keys of "ab"
  BOOST_TEST(event_key("a", UINT64_MAX) < event_key("ab", 0));
}

BOOST_AUTO_TEST_CASE(event_keys_decode_back) {
  std::string_view cid;
  std::uint64_t seq = 0;
  auto key = event_key("x:y.z_1-2", 77);
  BOOST_REQUIRE(decode_event_key(key, cid, seq));
  BOOST_TEST(cid == "x:y.z_1-2");
  BOOST_TEST(seq == 77u);
  BOOST_TEST(!decode_event_key("short", cid, seq));
}

// Persisted: the order family's value layout.
BOOST_AUTO_TEST_CASE(order_entries_list_length_prefixed_ids_and_sequence_numbers) {
  std::string value;
  append_order_entry(value, "ab", 2);
  append_order_entry(value, "c", 258);
  BOOST_TEST(value == std::string("\x02" "ab" "\0\0\0\0\0\0\0\x02" "\x01" "c" "\0\0\0\0\0\0\x01\x02", 21));
  std::vector<std::string> seen;
  BOOST_TEST(for_each_order_entry(value, [&](std::string_view cid, std::uint64_t seq) {
    seen.push_back(std::string{cid} + "/" + std::to_string(seq));
    return true;
  }));
  BOOST_TEST(seen == (std::vector<std::string>{"ab/2", "c/258"}));
  BOOST_TEST(!for_each_order_entry("\x05" "ab", [](std::string_view, std::uint64_t) { return true; }));
}

BOOST_AUTO_TEST_CASE(u64_round_trips) {
  std::uint64_t x = 0;
  BOOST_REQUIRE(decode_u64(encode_u64(0x0102030405060708ull), x));
  BOOST_TEST(x == 0x0102030405060708ull);
  BOOST_TEST(!decode_u64("1234567", x));
}

BOOST_AUTO_TEST_CASE(correlation_ids_are_checked) {
  BOOST_TEST(valid_correlation_id("ord-1"));
  BOOST_TEST(valid_correlation_id("breaker:payments"));
  BOOST_TEST(valid_correlation_id(std::string(128, 'a')));
  BOOST_TEST(!valid_correlation_id(""));
  BOOST_TEST(!valid_correlation_id(std::string(129, 'a')));
  BOOST_TEST(!valid_correlation_id("a/b"));
  BOOST_TEST(!valid_correlation_id("a\nb"));
  BOOST_TEST(!valid_correlation_id("\x1b[31m"));
  BOOST_TEST(!valid_correlation_id(std::string("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(bad_ids_are_shown_escaped) {
  BOOST_TEST(escape_for_display("a\nb\x1b") == R"("a\x0ab\x1b")");
  // A message in the timeline: quotes readable, UTF-8 kept, terminal controls never raw.
  BOOST_TEST(escape_for_display("say \"hi\" \\ caf\xC3\xA9 \xC2\x9B" "2J \xFF")
             == R"("say \"hi\" \\ café \xc2\x9b2J \xff")");
  BOOST_TEST(escape_for_display("\xC3\xA9\xC3\xA9", 3) == "\"\xC3\xA9...\""); // cut at a whole character
  BOOST_TEST(correlation_id_problem("a\nb").find(R"("a\x0ab")") != std::string::npos);
  BOOST_TEST(correlation_id_problem(std::string(129, 'a')).find("129 bytes") != std::string::npos);
  BOOST_TEST(correlation_id_problem("ok-id").empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace storage_keys_test
