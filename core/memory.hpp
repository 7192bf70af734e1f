// How much this process may allocate, and sizes computed without overflow:
// a size claimed by a file (rows in a header, a class count) is checked
// against these before anything is allocated, so a hostile or corrupt file
// gives one line naming it instead of std::bad_alloc.
#pragma once

#include <sys/resource.h>  // getrlimit: ulimit -v
#include <unistd.h>        // sysconf: physical memory

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>

namespace sinapsis {

// The machine's physical memory, or less under a ulimit -v (RLIMIT_AS).
inline std::uint64_t memory_limit_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t limit = pages > 0 && page > 0 ? std::uint64_t(pages) * std::uint64_t(page)
                                              : std::numeric_limits<std::uint64_t>::max();
  rlimit address_space{};
  if (::getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY &&
      std::uint64_t(address_space.rlim_cur) < limit)
    limit = std::uint64_t(address_space.rlim_cur);
  return limit;
}

// a * b * ..., or nothing when the product does not fit 64 bits.
inline std::optional<std::uint64_t> checked_product(std::initializer_list<std::uint64_t> factors) {
  std::uint64_t product = 1;
  for (const std::uint64_t f : factors)
    if (__builtin_mul_overflow(product, f, &product)) return std::nullopt;
  return product;
}

// Whether `bytes` (nothing: it overflowed) can be allocated at all.
inline bool fits_in_memory(std::optional<std::uint64_t> bytes) {
  return bytes && *bytes <= memory_limit_bytes();
}

// "3.2 GB", for messages.
inline std::string bytes_text(std::optional<std::uint64_t> bytes) {
  if (!bytes) return "more than 2^64 bytes";
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
  double value = double(*bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) value /= 1024, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

// "256MB", "2GB", "1.5 GB", "512K", "1000000" (bytes): binary units as
// bytes_text() writes them (K = 1024). Nothing for anything else, zero or
// more than 2^64 bytes.
inline std::optional<std::uint64_t> parse_byte_size(const std::string& text) {
  double value = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%lf%n", &value, &used) != 1 || !(value > 0)) return std::nullopt;
  std::string unit = text.substr(std::size_t(used));
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  for (char& c : unit) c = char(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  if (unit.size() == 2 && unit[1] == 'B' && unit[0] != 'B') unit.pop_back();
  if (unit == "BYTES") unit = "B";
  const std::string units = "BKMGTP";
  double scale = 1;
  if (!unit.empty()) {
    const auto at = units.find(unit);
    if (unit.size() != 1 || at == std::string::npos) return std::nullopt;
    for (std::size_t i = 0; i < at; ++i) scale *= 1024;
  }
  const double bytes = value * scale;
  if (!(bytes >= 1) || bytes >= 18446744073709551616.0) return std::nullopt;
  return std::uint64_t(bytes);
}

// "needs 8.0 TB, more than this machine's memory (15.6 GB)".
inline std::string memory_shortfall_text(std::optional<std::uint64_t> bytes) {
  return "needs " + bytes_text(bytes) + ", more than this machine's memory (" + bytes_text(memory_limit_bytes()) +
         ")";
}

}  // namespace sinapsis
