// The TensorFlow Playground's data generators (tensorflow/playground,
// src/dataset.ts), with the same distributions, the same order of random
// draws and the same noise semantics, from sinapsis' seeded Rng:
//   circle    half the points at radius U(0, 2.5), half at U(3.5, 5), angle
//             U(0, 2pi); label +1 iff |(x + nx, y + ny)| < 2.5 with
//             nx, ny ~ U(-5, 5) * noise. The stored point is (x, y): noise
//             only flips labels near the boundary.
//   xor       x, y ~ U(-5, 5), each pushed 0.3 away from 0; label +1 iff
//             (x + nx)(y + ny) >= 0, noise as for circle.
//   gauss     variance 0.5 + 7 noise; half N((2, 2)) labelled +1, half
//             N((-2, -2)) labelled -1 (Marsaglia's polar method).
//   spiral    n = N/2 per arm, r = 5 i/n, t = 1.75 * 2pi i/n + delta (0 for +1,
//             pi for -1), point (r sin t, r cos t) + U(-1, 1) * noise each.
//   reg-plane x, y ~ U(-6, 6), target (x + nx + y + ny) / 10, n ~ U(-6, 6) noise.
//   reg-gauss x, y as reg-plane; target the signed clamp(1 - d/2, 0, 1) of
//             largest magnitude over six centres (+-4 or 0, +-2.5).
// Class +1 is stored as class id 1 and -1 as 0, so a tanh output trained
// with mse sees the Playground's +-1 targets (core/dataset.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/dataset.hpp"

namespace sinapsis {

enum class PlaygroundSet { circle, xor_quadrants, gauss, spiral, reg_plane, reg_gauss };

PlaygroundSet parse_playground_set(std::string_view name, std::string_view what);
std::string_view playground_set_name(PlaygroundSet set);
// The Playground's default sample count: 500 to classify, 1200 to regress.
std::size_t playground_default_samples(PlaygroundSet set);

// noise in [0, 0.5] as in the Playground (its slider 0..50 divided by 100).
Dataset make_playground(PlaygroundSet set, std::size_t samples, double noise, std::uint64_t seed);

}  // namespace sinapsis
