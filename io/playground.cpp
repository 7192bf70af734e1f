#include "io/playground.hpp"

#include <array>
#include <cmath>
#include <numbers>
#include <utility>

#include "core/error.hpp"
#include "core/random.hpp"

namespace sinapsis {
namespace {

constexpr std::array<std::pair<std::string_view, PlaygroundSet>, 6> kNames{{
    {"circle", PlaygroundSet::circle},
    {"xor", PlaygroundSet::xor_quadrants},
    {"gauss", PlaygroundSet::gauss},
    {"spiral", PlaygroundSet::spiral},
    {"reg-plane", PlaygroundSet::reg_plane},
    {"reg-gauss", PlaygroundSet::reg_gauss},
}};

// Collects points in generation order.
struct Points {
  Dataset data;
  std::size_t next = 0;

  Points(std::size_t n, Task task) {
    data.task = task;
    data.features = Matrix<float>(n, 2);
    if (task == Task::classification) {
      data.labels.assign(n, 0);
      data.classes = 2;
    } else {
      data.targets = Matrix<float>(n, 1);
    }
  }
  void add(double x, double y, double label) {
    data.features(next, 0) = float(x);
    data.features(next, 1) = float(y);
    if (data.task == Task::classification)
      data.labels[next] = label > 0 ? 1 : 0;
    else
      data.targets(next, 0) = float(label);
    ++next;
  }
};

double normal_random(Rng& rng, double mean, double variance) {
  return mean + std::sqrt(variance) * rng.normal();
}

Dataset circle(std::size_t n, double noise, Rng& rng) {
  constexpr double radius = 5;
  Points p(n, Task::classification);
  const auto arc = [&](std::size_t count, double r_lo, double r_hi) {
    for (std::size_t i = 0; i < count; ++i) {
      const double r = rng.uniform(r_lo, r_hi);
      const double angle = rng.uniform(0, 2 * std::numbers::pi);
      const double x = r * std::sin(angle), y = r * std::cos(angle);
      const double nx = rng.uniform(-radius, radius) * noise;
      const double ny = rng.uniform(-radius, radius) * noise;
      p.add(x, y, std::hypot(x + nx, y + ny) < radius * 0.5 ? 1 : -1);
    }
  };
  arc(n / 2, 0, radius * 0.5);
  arc(n - n / 2, radius * 0.7, radius);
  return std::move(p.data);
}

Dataset xor_quadrants(std::size_t n, double noise, Rng& rng) {
  constexpr double padding = 0.3;
  Points p(n, Task::classification);
  for (std::size_t i = 0; i < n; ++i) {
    double x = rng.uniform(-5, 5);
    x += x > 0 ? padding : -padding;
    double y = rng.uniform(-5, 5);
    y += y > 0 ? padding : -padding;
    const double nx = rng.uniform(-5, 5) * noise;
    const double ny = rng.uniform(-5, 5) * noise;
    p.add(x, y, (x + nx) * (y + ny) >= 0 ? 1 : -1);
  }
  return std::move(p.data);
}

Dataset gauss(std::size_t n, double noise, Rng& rng) {
  const double variance = 0.5 + 7 * noise;  // d3 scale [0, .5] -> [0.5, 4]
  Points p(n, Task::classification);
  const auto blob = [&](std::size_t count, double cx, double cy, double label) {
    for (std::size_t i = 0; i < count; ++i) {
      const double x = normal_random(rng, cx, variance);
      const double y = normal_random(rng, cy, variance);
      p.add(x, y, label);
    }
  };
  blob(n / 2, 2, 2, 1);
  blob(n - n / 2, -2, -2, -1);
  return std::move(p.data);
}

Dataset spiral(std::size_t n, double noise, Rng& rng) {
  Points p(n, Task::classification);
  const auto arm = [&](std::size_t count, double delta, double label) {
    for (std::size_t i = 0; i < count; ++i) {
      const double r = double(i) / double(count) * 5;
      const double t = 1.75 * double(i) / double(count) * 2 * std::numbers::pi + delta;
      const double x = r * std::sin(t) + rng.uniform(-1, 1) * noise;
      const double y = r * std::cos(t) + rng.uniform(-1, 1) * noise;
      p.add(x, y, label);
    }
  };
  arm(n / 2, 0, 1);
  arm(n - n / 2, std::numbers::pi, -1);
  return std::move(p.data);
}

template <class Label>
Dataset regression(std::size_t n, double noise, Rng& rng, Label label_of) {
  constexpr double radius = 6;
  Points p(n, Task::regression);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = rng.uniform(-radius, radius);
    const double y = rng.uniform(-radius, radius);
    const double nx = rng.uniform(-radius, radius) * noise;
    const double ny = rng.uniform(-radius, radius) * noise;
    p.add(x, y, label_of(x + nx, y + ny));
  }
  return std::move(p.data);
}

double plane_label(double x, double y) { return (x + y) / 10; }  // d3 scale [-10, 10] -> [-1, 1]

double gauss_label(double x, double y) {
  constexpr std::array<std::array<double, 3>, 6> centres{{
      {-4, 2.5, 1}, {0, 2.5, -1}, {4, 2.5, 1}, {-4, -2.5, -1}, {0, -2.5, 1}, {4, -2.5, -1}}};
  double label = 0;
  for (const auto& [cx, cy, sign] : centres) {
    const double scaled = std::clamp(1 - std::hypot(x - cx, y - cy) / 2, 0.0, 1.0);
    if (std::abs(sign * scaled) > std::abs(label)) label = sign * scaled;
  }
  return label;
}

}  // namespace

PlaygroundSet parse_playground_set(std::string_view name, std::string_view what) {
  for (const auto& [text, value] : kNames)
    if (text == name) return value;
  throw UsageError(std::string(what) + ": unknown data set '" + std::string(name) +
                   "' (expected circle, xor, gauss, spiral, reg-plane or reg-gauss)");
}

std::string_view playground_set_name(PlaygroundSet set) {
  for (const auto& [text, value] : kNames)
    if (value == set) return text;
  return "?";
}

std::size_t playground_default_samples(PlaygroundSet set) {
  return set == PlaygroundSet::reg_plane || set == PlaygroundSet::reg_gauss ? 1200 : 500;
}

Dataset make_playground(PlaygroundSet set, std::size_t samples, double noise, std::uint64_t seed) {
  if (samples < 2) throw UsageError("--samples must be >= 2, got " + std::to_string(samples));
  if (!(noise >= 0 && noise <= 0.5))
    throw UsageError("--noise must be in [0, 0.5] (the Playground's 0..50 %), got " + std::to_string(noise));
  Rng rng(seed);
  switch (set) {
    case PlaygroundSet::circle: return circle(samples, noise, rng);
    case PlaygroundSet::xor_quadrants: return xor_quadrants(samples, noise, rng);
    case PlaygroundSet::gauss: return gauss(samples, noise, rng);
    case PlaygroundSet::spiral: return spiral(samples, noise, rng);
    case PlaygroundSet::reg_plane: return regression(samples, noise, rng, plane_label);
    case PlaygroundSet::reg_gauss: return regression(samples, noise, rng, gauss_label);
  }
  return {};
}

}  // namespace sinapsis
