// Option values that are valid numbers but would make sinapsis allocate
// more memory than the host has (a network of 10^16 weights, a sweep grid
// of 10^8 trials, 10^15 generated points) are refused before the
// allocation, in one line naming the option, the value, the memory it would
// take and what the host has: a std::bad_alloc, or the OOM killer, minutes
// later is no answer to a typo. The estimates are lower bounds, so that no
// run that fits is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/architecture.hpp"

namespace sinapsis::cli {

// Physical memory of this host: sysconf(_SC_PHYS_PAGES) * page size.
std::uint64_t host_memory_bytes();

// "512 B", "1.5 GiB", ...
std::string memory_text(std::uint64_t bytes);

// Size arithmetic on counts taken from options: a result beyond 64 bits
// stays at UINT64_MAX, which no host has, instead of wrapping to a small
// number that would pass the check.
std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b);
std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b);

// Throws UsageError "SUBJECT needs at least N of memory for WHAT, more than
// the M this host has" when `bytes` exceeds this host's memory. `subject`
// names the option and its value (option_text()).
void require_memory(std::uint64_t bytes, const std::string& subject, const std::string& what);

// The memory training `architecture` takes at least, in floats: its
// parameters five times over (themselves, gradients, momentum, the best and
// the last good copy) and a workspace of `rows` samples (activation, delta
// and dropout mask of every unit).
std::uint64_t training_bytes(const Architecture& architecture, std::size_t rows);
// The same for a network of `parameters` and `units` counted by the caller.
std::uint64_t training_bytes(std::uint64_t parameters, std::uint64_t units, std::size_t rows);

// require_memory() for training `architecture` with a workspace of `rows`.
void require_training_memory(const Architecture& architecture, std::size_t rows, const std::string& subject);

}  // namespace sinapsis::cli
