#include "dist/communicator.hpp"

#include <unistd.h>  // gethostname

#include <cstdlib>
#include <algorithm>
#include <cstring>

namespace sinapsis {

std::vector<std::string> Communicator::allgather(const std::string& text) {
  // Lengths first, then the padded texts.
  const std::uint64_t mine = text.size();
  std::vector<std::uint64_t> lengths(static_cast<std::size_t>(size()));
  allgather_raw(&mine, 1, Type::uint64, lengths.data());
  std::uint64_t longest = 0;
  for (auto n : lengths) longest = std::max(longest, n);
  std::string padded = text;
  padded.resize(longest);
  std::string all(longest * lengths.size(), '\0');
  if (longest > 0) allgather_raw(padded.data(), longest, Type::byte, all.data());
  std::vector<std::string> texts;
  for (std::size_t r = 0; r < lengths.size(); ++r) texts.push_back(all.substr(r * longest, lengths[r]));
  return texts;
}

void Communicator::sum_compressed(std::span<float> values, GradPrecision precision) {
  if (precision == GradPrecision::fp32) return allreduce(values, ReduceOp::sum);
  if (size() == 1) return;  // no wire: no rounding (see the declaration)
  sum_16_bits(values, precision);
}

std::string Communicator::broadcast(const std::string& text, int root) {
  std::uint64_t length = text.size();
  broadcast(std::span<std::uint64_t>(&length, 1), root);
  std::string out = text;
  out.resize(length);
  if (length > 0) broadcast(std::span<char>(out.data(), out.size()), root);
  return out;
}

std::string SingleProcess::host() const {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

void SingleProcess::abort(int status) { std::_Exit(status); }

void SingleProcess::allgather_raw(const void* mine, std::size_t count, Type type, void* all) {
  std::size_t bytes = 1;
  switch (type) {
    case Type::int32: case Type::float32: bytes = 4; break;
    case Type::int64: case Type::uint64: case Type::float64: bytes = 8; break;
    case Type::byte: bytes = 1; break;
  }
  std::memcpy(all, mine, count * bytes);
}

}  // namespace sinapsis
