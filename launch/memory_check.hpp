// Option values that are valid numbers but would make sinapsis allocate
// more memory than the machine has (a network of 10^16 weights, 10^15
// generated points, the largest network of a sweep grid) are refused before
// the allocation, in one line naming the option, the value, the memory it
// would take and what the machine has: a std::bad_alloc, or the OOM killer,
// minutes later is no answer to a typo. The estimates are lower bounds, so
// that no run that fits is refused. The machine's memory and the
// overflow-checked sizes are core/memory.hpp's, which the file readers use
// for the sizes files claim.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/architecture.hpp"
#include "core/memory.hpp"

namespace sinapsis::cli {

// a + b, or nothing when either is nothing or the sum does not fit 64 bits
// (checked_product()'s companion).
std::optional<std::uint64_t> checked_sum(std::optional<std::uint64_t> a, std::optional<std::uint64_t> b);

// Throws UsageError "SUBJECT: WHAT needs N, more than this machine's memory
// (M)" unless `bytes` (nothing: past 64 bits) fits in memory. `subject`
// names the option and its value (option_text()).
void require_memory(std::optional<std::uint64_t> bytes, const std::string& subject, const std::string& what);

// The memory training a network of `parameters` and `units` (hidden and
// output) takes at least, in floats: the parameters four times over
// (themselves, gradients, the best and the last good copy), the optimizer's
// `optimizer_buffers` (Optimizer::slots(): SGD's velocity, Adam's two
// moments) and a workspace of `rows` samples (activation, delta and dropout
// mask of every unit).
std::optional<std::uint64_t> training_bytes(std::uint64_t parameters, std::uint64_t units, std::size_t rows,
                                            std::size_t optimizer_buffers = 1);
std::optional<std::uint64_t> training_bytes(const Architecture& architecture, std::size_t rows,
                                            std::size_t optimizer_buffers = 1);

// require_memory() for training `architecture` with a workspace of `rows`.
void require_training_memory(const Architecture& architecture, std::size_t rows, const std::string& subject,
                             std::size_t optimizer_buffers = 1);

}  // namespace sinapsis::cli
