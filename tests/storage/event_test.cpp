#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <ctime>

#include "storage/event.hpp"
#include "storage/timestamp.hpp"

namespace storage_event_test {

using namespace nexus::storage;

namespace {

event sample() {
  event e;
  e.seq = 5;
  e.ts_us = 1764048767123456; // 2025-11-25T05:32:47.123456Z
  e.cid = "ord-1";
  e.type = event_type::step_retry_scheduled;
  e.saga = "order";
  e.step = "charge";
  e.attempt = 2;
  e.idempotency_key = "ord-1/charge";
  e.error = nexus::config::error_kind::transient;
  e.message = "boom \"quoted\"\n";
  e.output = R"({"id":7})";
  e.retry_at_us = e.ts_us + 250000;
  return e;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_format)

// Persisted: if this test fails, a change would make old logs unreadable or
// change what `ldb` users see. Add fields; do not rename them.
BOOST_AUTO_TEST_CASE(event_json_is_the_persisted_layout) {
  std::string json;
  encode_event(sample(), json);
  BOOST_TEST(json
             == R"({"v":2,"seq":5,"ts":"2025-11-25T05:32:47.123456Z","cid":"ord-1",)"
                R"("type":"step_retry_scheduled","saga":"order","step":"charge","attempt":2,)"
                R"("idempotency_key":"ord-1/charge","error_kind":"transient",)"
                R"("message":"boom \"quoted\"\n","output":{"id":7},)"
                R"("retry_at":"2025-11-25T05:32:47.373456Z"})");
}

// Schema 2: the definition a saga starts on, and a move to another one.
BOOST_AUTO_TEST_CASE(definitions_are_named_in_the_persisted_layout) {
  event e;
  e.seq = 1;
  e.ts_us = sample().ts_us;
  e.cid = "ord-1";
  e.type = event_type::saga_started;
  e.saga = "order";
  e.definition = std::string(64, 'a');
  e.input = "{}";
  std::string json;
  encode_event(e, json);
  BOOST_TEST(json == R"({"v":2,"seq":1,"ts":"2025-11-25T05:32:47.123456Z","cid":"ord-1",)"
                     R"("type":"saga_started","saga":"order","definition":")"
                     + std::string(64, 'a') + R"(","input":{}})");
  e.seq = 2;
  e.type = event_type::definition_changed;
  e.definition = std::string(64, 'b');
  e.from_definition = std::string(64, 'a');
  e.input.clear();
  json.clear();
  encode_event(e, json);
  BOOST_TEST(json == R"({"v":2,"seq":2,"ts":"2025-11-25T05:32:47.123456Z","cid":"ord-1",)"
                     R"("type":"definition_changed","saga":"order","definition":")"
                     + std::string(64, 'b') + R"(","from":")" + std::string(64, 'a') + R"("})");
  event back;
  std::string err;
  BOOST_REQUIRE_MESSAGE(decode_event(json, back, err), err);
  BOOST_TEST((back.type == event_type::definition_changed));
  BOOST_TEST(back.definition == std::string(64, 'b'));
  BOOST_TEST(back.from_definition == std::string(64, 'a'));
}

// A log written before schema 2 is read as it was: no definition named.
BOOST_AUTO_TEST_CASE(version_one_events_are_still_read) {
  event e;
  std::string err;
  BOOST_REQUIRE_MESSAGE(
    decode_event(R"({"v":1,"seq":1,"ts":"2025-11-25T05:32:47.123456Z","cid":"a","type":"saga_started","saga":"s","input":{}})",
                 e, err),
    err);
  BOOST_TEST(e.definition.empty());
  BOOST_TEST(e.saga == "s");
}

BOOST_AUTO_TEST_CASE(events_round_trip) {
  std::string json, err;
  encode_event(sample(), json);
  event back;
  BOOST_REQUIRE_MESSAGE(decode_event(json, back, err), err);
  auto e = sample();
  BOOST_TEST(back.seq == e.seq);
  BOOST_TEST(back.ts_us == e.ts_us);
  BOOST_TEST(back.cid == e.cid);
  BOOST_TEST((back.type == e.type));
  BOOST_TEST(back.step == e.step);
  BOOST_TEST(back.attempt == e.attempt);
  BOOST_TEST((back.error == e.error));
  BOOST_TEST(back.message == e.message);
  BOOST_TEST(back.output == e.output);
  BOOST_TEST(back.retry_at_us == e.retry_at_us);
}

BOOST_AUTO_TEST_CASE(every_event_type_name_round_trips) {
  for (int i = 0; i <= static_cast<int>(event_type::definition_changed); ++i) {
    auto t = static_cast<event_type>(i);
    BOOST_TEST((parse_event_type(to_string(t)) == t));
  }
  BOOST_TEST(!parse_event_type("saga_exploded"));
}

BOOST_AUTO_TEST_CASE(malformed_events_are_refused_with_a_reason) {
  event e;
  std::string err;
  BOOST_TEST(!decode_event("{", e, err));
  BOOST_TEST(!decode_event(R"({"v":3,"seq":1,"ts":"2025-11-25T05:32:47.123456Z","cid":"a","type":"saga_started"})", e, err));
  BOOST_TEST(err.find("version") != std::string::npos);
  BOOST_TEST(!decode_event(R"({"v":1,"seq":1,"ts":"yesterday","cid":"a","type":"saga_started"})", e, err));
  BOOST_TEST(!decode_event(R"({"v":1,"seq":1,"ts":"2025-11-25T05:32:47.123456Z","cid":"a"})", e, err));
}

BOOST_AUTO_TEST_CASE(timestamps_round_trip) {
  for (std::int64_t us : {0ll, 1ll, 951782400000000ll /* 2000-02-29 */, 1764048767123456ll})
    BOOST_TEST(parse_timestamp(format_timestamp(us)).value_or(-1) == us);
  BOOST_TEST(format_timestamp(0) == "1970-01-01T00:00:00.000000Z");
}

BOOST_AUTO_TEST_CASE(timestamps_are_formatted_as_gmtime_gives_them) {
  // Every leap-year rule, both sides of the epoch, the last instant of 9999.
  std::vector<std::int64_t> at{-62135596800000000ll, -2208988800000001ll, -1ll, 0ll,
                               951868799999999ll, 951868800000000ll, 4107542400000000ll,
                               253402300799999999ll};
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 2000; ++i) { // and times spread over 0001-9999
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    at.push_back(-62135596800000000ll + static_cast<std::int64_t>(x % 315537897600000000ull));
  }
  for (auto us : at) {
    auto secs = us / 1000000 - (us % 1000000 < 0 ? 1 : 0);
    auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(us - secs * 1000000));
    BOOST_TEST(format_timestamp(us) == want, us);
  }
}

BOOST_AUTO_TEST_CASE(any_rfc3339_time_is_read_with_its_offset_and_nothing_else_is) {
  BOOST_TEST(parse_rfc3339("2000-02-29T00:00:00Z").value_or(-1) == 951782400000000ll);
  BOOST_TEST(parse_rfc3339("2000-02-29t01:30:00.25+01:30").value_or(-1) == 951782400250000ll);
  BOOST_TEST(parse_rfc3339("1999-12-31T23:00:00-01:00").value_or(-1) == 946684800000000ll);
  BOOST_TEST(parse_rfc3339("2000-01-01T00:00:00.1234567z").value_or(-1) == 946684800123456ll);
  for (auto bad : {"2001-02-29T00:00:00Z", "2000-01-01 00:00:00Z", "2000-01-01T00:00:00",
                   "2000-01-01T24:00:00Z", "2000-01-01T00:00:00.Z", "2000-01-01T00:00:00+0100",
                   "2000-13-01T00:00:00Z", "tomorrow", ""})
    BOOST_TEST(!parse_rfc3339(bad), bad);
}

BOOST_AUTO_TEST_CASE(waiting_events_round_trip_their_signal_fields) {
  event e;
  e.seq = 3;
  e.ts_us = 1764048767123456;
  e.cid = "ord-1";
  e.type = event_type::signal_received;
  e.signal = "paid";
  e.signal_id = "pay-7";
  e.data = R"({"amount":42})";
  std::string json;
  encode_event(e, json);
  BOOST_TEST(json.find(R"("signal":"paid","signal_id":"pay-7","data":{"amount":42})")
             != std::string::npos);
  event back;
  std::string err;
  BOOST_REQUIRE_MESSAGE(decode_event(json, back, err), err);
  BOOST_TEST(back.signal == "paid");
  BOOST_TEST(back.signal_id == "pay-7");
  BOOST_TEST(back.data == R"({"amount":42})");
  e.type = event_type::step_waiting;
  e.wake_at_us = 1764048768000000;
  json.clear();
  encode_event(e, json);
  BOOST_REQUIRE_MESSAGE(decode_event(json, back, err), err);
  BOOST_TEST(back.wake_at_us == 1764048768000000);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace storage_event_test
