#include "storage/timestamp.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace nexus::storage {

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (Howard Hinnant's days_from_civil), so that parsing needs no time zone.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The civil date of a day count from 1970-01-01 (Hinnant's civil_from_days).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

/// The `len` decimal digits of `s` at `pos` into `out`; false if any is not one.
bool read_digits(std::string_view s, size_t pos, size_t len, std::int64_t& out) {
  if (pos + len > s.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

} // namespace

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_timestamp(std::int64_t us) {
  std::int64_t secs = us / 1000000;
  std::int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  // By hand, not gmtime_r and snprintf: every event carries one, and
  // those two were a twentieth of a saga's CPU (perf). Years outside
  // 0000-9999 (never from a clock) go the slow way.
  std::int64_t days = secs / 86400;
  std::int64_t in_day = secs % 86400;
  if (in_day < 0) {
    in_day += 86400;
    --days;
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) {
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(frac));
    return buf;
  }
  std::string out(27, '0'); // YYYY-MM-DDTHH:MM:SS.ffffffZ
  auto put = [&out](std::size_t at, std::size_t digits, std::int64_t v) {
    for (std::size_t i = digits; i-- > 0; v /= 10)
      out[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, y);
  out[4] = '-';
  put(5, 2, m);
  out[7] = '-';
  put(8, 2, d);
  out[10] = 'T';
  put(11, 2, in_day / 3600);
  out[13] = ':';
  put(14, 2, in_day / 60 % 60);
  out[16] = ':';
  put(17, 2, in_day % 60);
  out[19] = '.';
  put(20, 6, frac);
  out[26] = 'Z';
  return out;
}

std::optional<std::int64_t> parse_timestamp(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  if (s.size() != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':'
      || s[16] != ':' || s[19] != '.' || s[26] != 'Z')
    return std::nullopt;
  auto num = [&](size_t pos, size_t len, std::int64_t& out) { return read_digits(s, pos, len, out); };
  std::int64_t y, mo, d, h, mi, se, f;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi)
      || !num(17, 2, se) || !num(20, 6, f))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
    return std::nullopt;
  auto days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60 * 1000000 + se * 1000000 + f;
}

// GCC 12's <chrono> has no std::chrono::parse (GCC 14 on) and strptime
// takes neither fractions nor every offset form: RFC 3339's grammar is
// small and fixed, so it is read here.
std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
  auto digits = [&](size_t pos, size_t len, std::int64_t& out) { return read_digits(s, pos, len, out); };
  std::int64_t y, mo, d, h, mi, se;
  if (!digits(0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-'
      || !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':'
      || !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, se))
    return std::nullopt;
  static constexpr int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || h > 23 || mi > 59 || se > 60)
    return std::nullopt;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap)
    return std::nullopt;
  size_t at = 19;
  std::int64_t frac = 0;
  if (at < s.size() && s[at] == '.') {
    size_t first = ++at;
    std::int64_t scale = 100000;
    for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, scale /= 10)
      frac += scale > 0 ? (s[at] - '0') * scale : 0;
    if (at == first)
      return std::nullopt;
  }
  std::int64_t offset_min = 0;
  if (at + 1 == s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at + 6 == s.size() && (s[at] == '+' || s[at] == '-') && s[at + 3] == ':') {
    std::int64_t oh, om;
    if (!digits(at + 1, 2, oh) || !digits(at + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (s[at] == '+' ? 1 : -1) * (oh * 60 + om);
    at += 6;
  }
  if (at != s.size())
    return std::nullopt;
  auto days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return (((days * 24 + h) * 60 + mi - offset_min) * 60 + se) * 1000000 + frac;
}

} // namespace nexus::storage
