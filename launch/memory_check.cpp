#include "launch/memory_check.hpp"

#include <unistd.h>  // sysconf

#include <cstdio>
#include <limits>

#include "core/error.hpp"

namespace sinapsis::cli {

std::uint64_t host_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
  // Unknown: refuse nothing (the check is a courtesy, not a guarantee).
  if (pages <= 0 || page_size <= 0) return std::numeric_limits<std::uint64_t>::max();
  return saturating_multiply(std::uint64_t(pages), std::uint64_t(page_size));
}

std::string memory_text(std::uint64_t bytes) {
  if (bytes == std::numeric_limits<std::uint64_t>::max()) return "more than 16 EiB";
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = double(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<std::uint64_t>::max() : sum;
}

std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
  std::uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<std::uint64_t>::max() : product;
}

void require_memory(std::uint64_t bytes, const std::string& subject, const std::string& what) {
  const std::uint64_t host = host_memory_bytes();
  if (bytes <= host) return;
  const std::string needed = memory_text(bytes);
  throw UsageError(subject + " needs " + (needed.rfind("more", 0) == 0 ? "" : "at least ") + needed +
                   " of memory for " + what + ", more than the " + memory_text(host) + " this host has");
}

std::uint64_t training_bytes(std::uint64_t parameters, std::uint64_t units, std::size_t rows) {
  const std::uint64_t parameter_floats = saturating_multiply(5, parameters);
  const std::uint64_t workspace_floats = saturating_multiply(saturating_multiply(3, units), rows);
  return saturating_multiply(sizeof(float), saturating_add(parameter_floats, workspace_floats));
}

std::uint64_t training_bytes(const Architecture& architecture, std::size_t rows) {
  return training_bytes(architecture.parameter_count(), architecture.unit_count(), rows);
}

void require_training_memory(const Architecture& architecture, std::size_t rows, const std::string& subject) {
  require_memory(training_bytes(architecture, rows), subject,
                 "training " + std::to_string(architecture.parameter_count()) + " parameters");
}

}  // namespace sinapsis::cli
