#include "launch/memory_check.hpp"

#include "core/error.hpp"

namespace sinapsis::cli {

std::optional<std::uint64_t> checked_sum(std::optional<std::uint64_t> a, std::optional<std::uint64_t> b) {
  std::uint64_t sum = 0;
  if (!a || !b || __builtin_add_overflow(*a, *b, &sum)) return std::nullopt;
  return sum;
}

void require_memory(std::optional<std::uint64_t> bytes, const std::string& subject, const std::string& what) {
  if (!fits_in_memory(bytes)) throw UsageError(subject + ": " + what + " " + memory_shortfall_text(bytes));
}

std::optional<std::uint64_t> training_bytes(std::uint64_t parameters, std::uint64_t units, std::size_t rows,
                                            std::size_t optimizer_buffers) {
  const auto floats =
      checked_sum(checked_product({4 + optimizer_buffers, parameters}), checked_product({3, units, rows}));
  return floats ? checked_product({*floats, sizeof(float)}) : std::nullopt;
}

std::optional<std::uint64_t> training_bytes(const Architecture& architecture, std::size_t rows,
                                            std::size_t optimizer_buffers) {
  return training_bytes(architecture.parameter_count(), architecture.unit_count(), rows, optimizer_buffers);
}

void require_training_memory(const Architecture& architecture, std::size_t rows, const std::string& subject,
                             std::size_t optimizer_buffers) {
  require_memory(training_bytes(architecture, rows, optimizer_buffers), subject,
                 "training " + std::to_string(architecture.parameter_count()) + " parameters");
}

}  // namespace sinapsis::cli
