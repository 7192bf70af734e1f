// Weight initializers. Every layer draws from its own stream,
// derive_seed({seed, Stream::init, layer}), so a model is reproducible from
// its seed. (Loading weights from a model file is io/model_file.hpp.)
//   glorot     W ~ U(-s, s), s = sqrt(6 / (fan_in + fan_out)); b = 0
//   he         W ~ N(0, 2 / fan_in); b = 0
//   playground W ~ U(-0.5, 0.5); b = 0.1   (TensorFlow Playground)
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/model.hpp"
#include "core/random.hpp"

namespace sinapsis {

enum class Initializer { glorot, he, playground };

inline Initializer parse_initializer(std::string_view name, std::string_view what) {
  if (name == "glorot") return Initializer::glorot;
  if (name == "he") return Initializer::he;
  if (name == "playground") return Initializer::playground;
  throw UsageError(std::string(what) + ": unknown initializer '" + std::string(name) +
                   "' (expected glorot, he or playground)");
}

template <class T>
void initialize(Model<T>& model, Initializer init, std::uint64_t seed) {
  for (std::size_t l = 0; l < model.layer_count(); ++l) {
    Rng rng(derive_seed({seed, std::uint64_t(Stream::init), l}));
    MatrixView<T> w = model.weight(l);
    const double fan_in = double(w.rows), fan_out = double(w.cols);
    T bias{0};
    for (T& value : w.flat()) {
      switch (init) {
        case Initializer::glorot: {
          const double s = std::sqrt(6.0 / (fan_in + fan_out));
          value = T(rng.uniform(-s, s));
          break;
        }
        case Initializer::he:
          value = T(rng.normal() * std::sqrt(2.0 / fan_in));
          break;
        case Initializer::playground:
          value = T(rng.uniform(-0.5, 0.5));
          bias = T(0.1);
          break;
      }
    }
    for (T& b : model.bias(l)) b = bias;
  }
}

}  // namespace sinapsis
