// Deterministic random numbers. The standard library's distributions differ
// between implementations, so sinapsis draws its own from xoshiro256** and
// derives every stream (init, shuffling, dropout) from the user's seed and a
// purpose-specific tuple: results are the same on every machine and rank.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>
#include <initializer_list>

namespace sinapsis {

// SplitMix64 finalizer: a good 64-bit mixer for deriving seeds.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A seed for one purpose, e.g. derive_seed({seed, kDropoutStream, step}).
constexpr std::uint64_t derive_seed(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0x5EED5EED5EED5EEDull;
  for (std::uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

// Purposes of the derived streams.
enum class Stream : std::uint64_t { init = 1, shuffle = 2, dropout = 3, split = 4, shard = 5, blocks = 6, buffer = 7 };

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : state_) word = seed = mix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n) (Lemire's multiply, negligible bias for n << 2^64).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using Wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<Wide>(next()) * n) >> 64);
  }
  // Standard normal by Marsaglia's polar method (as the Playground uses).
  double normal() {
    double u, v, s;
    do {
      u = uniform(-1, 1);
      v = uniform(-1, 1);
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * std::sqrt(-2 * std::log(s) / s);
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

// Fisher-Yates with `rng`: every order equally likely, and the same order
// for the same generator state (what makes shuffles reproducible).
template <class T>
void shuffle(std::vector<T>& values, Rng& rng) {
  for (std::size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[rng.below(i)]);
}

}  // namespace sinapsis
