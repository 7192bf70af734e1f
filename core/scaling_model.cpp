#include "core/scaling_model.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>  // std::invalid_argument

#include "core/gradient_buckets.hpp"  // BucketPlan, weight_chunks
#include "core/model.hpp"             // Model<float>::kControlSlots

namespace sinapsis {
namespace {

constexpr double kFloatBytes = 4;
constexpr double kWire16Bytes = 2;

// floor(log2 n) for n >= 1.
std::size_t floor_log2(std::size_t n) {
  std::size_t lg = 0;
  while (n >>= 1) ++lg;
  return lg;
}
std::size_t ceil_log2(std::size_t n) { return n <= 1 ? 0 : floor_log2(n - 1) + 1; }

// One row of a coll/tuned fixed decision: for communicators below
// `below_ranks`, the first threshold the size is below picks the algorithm.
template <class Algorithm>
struct SizeRule {
  double below_bytes;
  Algorithm algorithm;
};
template <class Algorithm>
struct RankRule {
  std::size_t below_ranks;
  std::vector<SizeRule<Algorithm>> by_size;  // the last one's bound is infinite
};
template <class Algorithm>
Algorithm decide(const std::vector<RankRule<Algorithm>>& rules, std::size_t ranks, double bytes) {
  for (const auto& rule : rules) {
    if (ranks >= rule.below_ranks) continue;
    for (const auto& size : rule.by_size)
      if (bytes < size.below_bytes) return size.algorithm;
  }
  return rules.back().by_size.back().algorithm;
}

constexpr double kAny = std::numeric_limits<double>::infinity();
constexpr std::size_t kAnyRanks = std::numeric_limits<std::size_t>::max();

// ompi_coll_tuned_allreduce_intra_dec_fixed, v4.1.x, commutative branch.
// Its "segmented ring" (called with segment size 0) is the plain ring.
AllreduceAlgorithm open_mpi_fixed_allreduce(std::size_t ranks, double bytes) {
  using A = AllreduceAlgorithm;
  static const std::vector<RankRule<A>> rules = {
      {4, {{8, A::ring}, {4096, A::recursive_doubling}, {8192, A::ring}, {16384, A::recursive_doubling},
           {65536, A::ring}, {262144, A::ring}, {kAny, A::rabenseifner}}},
      {8, {{16, A::ring}, {8192, A::recursive_doubling}, {kAny, A::rabenseifner}}},
      {16, {{8192, A::recursive_doubling}, {kAny, A::rabenseifner}}},
      {32, {{64, A::ring}, {4096, A::recursive_doubling}, {kAny, A::rabenseifner}}},
      {64, {{128, A::ring}, {kAny, A::rabenseifner}}},
      {128, {{262144, A::recursive_doubling}, {kAny, A::rabenseifner}}},
      {256, {{131072, A::reduce_bcast}, {262144, A::recursive_doubling}, {kAny, A::rabenseifner}}},
      {512, {{4096, A::reduce_bcast}, {kAny, A::rabenseifner}}},
      {2048, {{2048, A::reduce_bcast}, {16384, A::recursive_doubling}, {kAny, A::rabenseifner}}},
      {4096, {{2048, A::reduce_bcast}, {4096, A::ring}, {16384, A::recursive_doubling}, {kAny, A::rabenseifner}}},
      {kAnyRanks,
       {{2048, A::reduce_bcast}, {16384, A::ring}, {32768, A::recursive_doubling}, {kAny, A::rabenseifner}}},
  };
  return decide(rules, ranks, bytes);
}

// ompi_coll_tuned_allgatherv_intra_dec_fixed, v4.1.x (by bytes per rank), as
// the number of messages each algorithm sends in sequence.
enum class Allgatherv { gather_bcast, bruck, ring, neighbor, two_proc };
double allgatherv_messages(std::size_t ranks, double bytes_per_rank) {
  using G = Allgatherv;
  static const std::vector<RankRule<G>> rules = {
      {3, {{2048, G::ring}, {4096, G::two_proc}, {8192, G::ring}, {kAny, G::two_proc}}},
      {8, {{256, G::gather_bcast}, {4096, G::neighbor}, {8192, G::ring}, {16384, G::neighbor},
           {262144, G::bruck}, {kAny, G::neighbor}}},
      {16, {{1024, G::gather_bcast}, {kAny, G::bruck}}},
      {32, {{128, G::gather_bcast}, {262144, G::bruck}, {kAny, G::ring}}},
      {64, {{256, G::gather_bcast}, {8192, G::bruck}, {kAny, G::ring}}},
      {128, {{256, G::gather_bcast}, {4096, G::bruck}, {kAny, G::ring}}},
      {256, {{1024, G::bruck}, {65536, G::neighbor}, {kAny, G::ring}}},
      {512, {{1024, G::bruck}, {kAny, G::ring}}},
      {1024, {{512, G::bruck}, {1024, G::gather_bcast}, {4096, G::bruck}, {1048576, G::neighbor}, {kAny, G::ring}}},
      {kAnyRanks, {{4096, G::bruck}, {kAny, G::neighbor}}},
  };
  const double p = double(ranks);
  switch (decide(rules, ranks, bytes_per_rank)) {
    case G::gather_bcast: return p - 1 + double(ceil_log2(ranks));  // linear gatherv to rank 0, tree bcast
    case G::bruck: return double(ceil_log2(ranks));
    case G::ring: return p - 1;
    case G::neighbor: return ranks % 2 == 0 ? p / 2 : p - 1;  // odd counts fall back to the ring
    case G::two_proc: return 1;
  }
  return p - 1;
}

// ompi_coll_tuned_alltoallv_intra_dec_fixed, v4.1.x, by rank count only:
// pairwise (p - 1 exchanges in turn) or basic linear (every receive and
// send posted at once, then one wait).
bool alltoallv_is_pairwise(std::size_t ranks) {
  return ranks < 4 || (ranks >= 64 && ranks < 128) || (ranks >= 256 && ranks < 1024);
}

}  // namespace

std::string_view allreduce_algorithm_name(AllreduceAlgorithm algorithm) {
  switch (algorithm) {
    case AllreduceAlgorithm::linear: return "linear";
    case AllreduceAlgorithm::reduce_bcast: return "reduce+bcast";
    case AllreduceAlgorithm::recursive_doubling: return "recursive doubling";
    case AllreduceAlgorithm::ring: return "ring";
    case AllreduceAlgorithm::rabenseifner: return "rabenseifner";
  }
  return "?";
}

AllreduceAlgorithm open_mpi_allreduce_algorithm(std::size_t ranks, double bytes) {
  const AllreduceAlgorithm chosen = open_mpi_fixed_allreduce(ranks, bytes);
  const double floats = std::floor(bytes / kFloatBytes);
  if (chosen == AllreduceAlgorithm::ring && floats < double(ranks)) return AllreduceAlgorithm::recursive_doubling;
  if (chosen == AllreduceAlgorithm::rabenseifner && floats < double(std::size_t{1} << floor_log2(std::max<std::size_t>(ranks, 1))))
    return AllreduceAlgorithm::linear;
  return chosen;
}

CostTerms allreduce_terms(AllreduceAlgorithm algorithm, std::size_t ranks, double bytes) {
  if (ranks <= 1) return {};
  const double p = double(ranks), n = bytes;
  const std::size_t lg = floor_log2(ranks);
  const double power = double(std::size_t{1} << lg);
  const bool folded = double(ranks) != power;  // ranks beyond the power of two fold in first
  switch (algorithm) {
    case AllreduceAlgorithm::recursive_doubling: {
      CostTerms t{double(lg), double(lg) * n, double(lg) * n};
      if (folded) t += {2, 2 * n, n};  // send to the neighbour, who reduces; result back at the end
      return t;
    }
    case AllreduceAlgorithm::ring:
      return {2 * (p - 1), 2 * (p - 1) / p * n, (p - 1) / p * n};
    case AllreduceAlgorithm::rabenseifner: {
      const double share = (power - 1) / power;
      CostTerms t{2 * double(lg), 2 * share * n, share * n};
      // Halves swapped and reduced with the neighbour, the reduced half sent
      // back, and the whole result to the folded rank at the end.
      if (folded) t += {3, 2 * n, n / 2};
      return t;
    }
    case AllreduceAlgorithm::reduce_bcast: {
      const double depth = double(ceil_log2(ranks));
      return {2 * depth, 2 * depth * n, depth * n};
    }
    case AllreduceAlgorithm::linear:
      return {2 * (p - 1), 2 * (p - 1) * n, (p - 1) * n};
  }
  return {};
}

std::size_t node_count(std::size_t ranks, std::size_t ranks_per_node) {
  const std::size_t k = std::max<std::size_t>(ranks_per_node, 1);
  return (ranks + k - 1) / k;
}

namespace {

// How many ranks share a node: ranks_per_node, at least 1, at most ranks.
std::size_t ranks_on_a_node(std::size_t ranks, std::size_t ranks_per_node) {
  return std::clamp<std::size_t>(ranks_per_node, 1, std::max<std::size_t>(ranks, 1));
}

// 2^v, the largest power of two dividing n >= 1.
std::size_t power_of_two_dividing(std::size_t n) { return n & (~n + 1); }

// How many of the first `steps` exchanges of recursive doubling or
// Rabenseifner (distances 1, 2, 4, ...: rank r with rank r xor d) stay
// within a node of `per_node` ranks placed in rank order. With no fold
// every pair of the step at distance d shares a node exactly when per_node
// is a multiple of 2d. With `extra` ranks folded in first, the survivors
// are renumbered (the odd one of each of the first 2 extra ranks, then the
// rest) and a step stays within a node when per_node is a multiple of 4d
// and extra of 2d; other steps are charged to the network, which at some
// counts (7 ranks, 4 per node) charges a step that stays within a node.
// Never the reverse: tests/test_scaling_model.cpp checks both claims
// against Open MPI's pairs.
std::size_t steps_within_node(std::size_t per_node, std::size_t steps, std::size_t extra) {
  const std::size_t node_block = power_of_two_dividing(per_node);
  std::size_t within = 0;
  for (std::size_t d = 1; within < steps; d *= 2, ++within) {
    const bool aligned = extra == 0 ? node_block % (2 * d) == 0
                                    : node_block % (4 * d) == 0 && extra % (2 * d) == 0;
    if (!aligned) break;
  }
  return within;
}

}  // namespace

ExchangeTerms allreduce_terms_on_nodes(AllreduceAlgorithm algorithm, std::size_t ranks, std::size_t ranks_per_node,
                                       double bytes) {
  const std::size_t per_node = ranks_on_a_node(ranks, ranks_per_node);
  ExchangeTerms terms;
  if (node_count(ranks, per_node) <= 1) {
    terms.shared_memory = allreduce_terms(algorithm, ranks, bytes);
    return terms;
  }
  const double n = bytes, k = double(per_node);
  const std::size_t lg = floor_log2(ranks), power = std::size_t{1} << lg, extra = ranks - power;
  // The fold pairs ranks 2j and 2j+1: within a node when nodes start at even
  // ranks; across one, a single flow per node link.
  CostTerms& fold_link = per_node % 2 == 0 ? terms.shared_memory : terms.network;
  switch (algorithm) {
    case AllreduceAlgorithm::ring:
      // Each step's slowest hop is the one from a node's last rank to the
      // next node's first: one flow per link, every step.
      terms.network = allreduce_terms(algorithm, ranks, bytes);
      return terms;
    case AllreduceAlgorithm::recursive_doubling: {
      const std::size_t within = steps_within_node(per_node, lg, extra);
      const double across = double(lg - within);
      terms.shared_memory = {double(within), double(within) * n, double(within) * n};
      terms.network = {across, across * n * k, across * n};  // all k ranks of a node cross at once
      if (extra > 0) fold_link += {2, 2 * n, n};
      return terms;
    }
    case AllreduceAlgorithm::rabenseifner: {
      // The step at distance d moves n/2d bytes each way: the large halves
      // at the short distances, within a node.
      const std::size_t within = steps_within_node(per_node, lg, extra);
      const double local = double(std::size_t{1} << within), beyond = double(power) / local;
      const double share_within = (local - 1) / local, share_across = (beyond - 1) / beyond / local;
      terms.shared_memory = {2 * double(within), 2 * share_within * n, share_within * n};
      terms.network = {2 * double(lg - within), 2 * share_across * n * k, share_across * n};
      if (extra > 0) fold_link += {3, 2 * n, n / 2};
      return terms;
    }
    case AllreduceAlgorithm::reduce_bcast: {
      // Binomial trees: level d joins r and r + d for r a multiple of 2d,
      // within a node when per_node is a multiple of 2d; across, at most one
      // edge leaves or enters a node per level.
      const std::size_t depth = ceil_log2(ranks);
      const std::size_t within = std::min(depth, floor_log2(power_of_two_dividing(per_node)));
      const double across = double(depth - within);
      terms.shared_memory = {2 * double(within), 2 * double(within) * n, double(within) * n};
      terms.network = {2 * across, 2 * across * n, across * n};
      return terms;
    }
    case AllreduceAlgorithm::linear: {
      // Rank 0 receives and reduces every contribution, then sends every
      // rank the result, one message at a time: k - 1 of each on its node.
      const double within = k - 1, across = double(ranks - per_node);
      terms.shared_memory = {2 * within, 2 * within * n, within * n};
      terms.network = {2 * across, 2 * across * n, across * n};
      return terms;
    }
  }
  return terms;
}

ExchangeTerms allreduce_exchange(std::size_t ranks, std::size_t ranks_per_node, double bytes) {
  return allreduce_terms_on_nodes(open_mpi_allreduce_algorithm(ranks, bytes), ranks, ranks_per_node, bytes);
}

ExchangeTerms compressed_exchange(std::size_t ranks, std::size_t ranks_per_node, std::size_t floats) {
  if (ranks <= 1) return {};
  const std::size_t per_node = ranks_on_a_node(ranks, ranks_per_node);
  const double p = double(ranks), k = double(per_node);
  const double chunk = double(floats) * kWire16Bytes / p;  // one rank's share on the wire
  ExchangeTerms terms;
  // Every step of either collective has a hop between nodes once there are
  // several: its latency is the network's.
  CostTerms& slowest = node_count(ranks, per_node) > 1 ? terms.network : terms.shared_memory;
  if (alltoallv_is_pairwise(ranks)) {
    slowest.alphas += p - 1;
  } else {
    slowest.alphas += 1;                 // all messages posted at once: one latency ...
    terms.shared_memory.alphas += p - 1; // ... and each message's software overhead
  }
  slowest.alphas += allgatherv_messages(ranks, chunk);
  // Bandwidth: each rank sends its k - 1 node peers their chunk over shared
  // memory; the k ranks of a node send to the p - k others through its one
  // link (both collectives).
  terms.shared_memory.beta_bytes += 2 * (k - 1) * chunk;
  terms.network.beta_bytes += 2 * k * (p - k) * chunk;
  return terms;
}

double compressed_conversion_bytes(std::size_t ranks, std::size_t floats) {
  if (ranks <= 1) return 0;
  const double n = double(floats), own = n / double(ranks);
  const double narrow = kFloatBytes + kWire16Bytes;          // read a float, write 16 bits
  const double add = kWire16Bytes + 2 * kFloatBytes;         // read 16 bits, read and write the sum
  return narrow * n                                          // the values onto the wire
         + narrow * own + add * (double(ranks) - 1) * own    // the contributions to this rank's chunk
         + narrow * own                                      // its sum onto the wire
         + narrow * n;                                       // the result back into the values
}

double expected_largest(std::span<const double> sorted, std::size_t p) {
  const double n = double(sorted.size());
  double sum = 0, below = 0;  // below: (i-1)/n to the p
  for (std::size_t i = 1; i <= sorted.size(); ++i) {
    const double at = std::pow(double(i) / n, double(p));
    sum += sorted[i - 1] * (at - below);
    below = at;
  }
  return sum;
}

const MeasuredSteps* HostRates::steps_for(std::size_t ranks) const {
  const MeasuredSteps* chosen = nullptr;
  for (const auto& m : measured_steps)
    if (m.together <= ranks && (!chosen || m.together > chosen->together)) chosen = &m;
  return chosen;
}

GemmSeconds gemm_at_gflops(double gflops) {
  return [gflops](const GemmShape& shape) { return shape.flops() / (gflops * 1e9); };
}

bool overlap_applies(OverlapMode mode, bool spans_hosts, bool spare_core) {
  return mode == OverlapMode::on || (mode == OverlapMode::automatic && spans_hosts && spare_core);
}

std::vector<GemmShape> step_gemm_shapes(const Architecture& architecture, std::size_t batch,
                                        std::span<const std::size_t> chunk_rows) {
  const auto& layers = architecture.layers;
  std::vector<GemmShape> shapes;
  for (const auto& l : layers) shapes.push_back({batch, l.fan_out, l.fan_in, GemmPass::forward});
  for (std::size_t l = layers.size(); l-- > 0;) {
    const std::size_t block = l < chunk_rows.size() ? chunk_rows[l] : 0;
    for (const auto [first, end] : weight_chunks(layers[l].fan_in, block))
      shapes.push_back({end - first, layers[l].fan_out, batch, GemmPass::weight_gradient});
    if (l > 0) shapes.push_back({batch, layers[l].fan_in, layers[l].fan_out, GemmPass::input_gradient});
  }
  return shapes;
}

namespace {

// When a step's compute reaches each point that matters to the exchange.
struct ComputeTimeline {
  std::vector<double> block_done;  // end of each weight-gradient block, in backward's order
  double backward_end = 0;
  double after_sum = 0;            // update (and fp16's unscale), after the exchange
  double total() const { return backward_end + after_sum; }
};

// The memory-bound passes are counted in bytes streamed, the GEMMs timed by
// the host's rate; the order is trainer.hpp's step_batch with network.hpp's
// forward and backward (no dropout, the trainer's default plain SGD).
ComputeTimeline compute_timeline(const Architecture& architecture, std::size_t batch,
                                 std::span<const std::size_t> chunk_rows, GradPrecision precision,
                                 const HostRates& rates) {
  const auto& layers = architecture.layers;
  const double b = double(batch), f = kFloatBytes;
  const double parameters = double(architecture.parameter_count());
  const auto streamed = [&](double bytes) { return bytes / rates.memory_bytes_per_second; };
  const auto gemm = [&](std::size_t m, std::size_t n, std::size_t k, GemmPass pass) { return rates.gemm({m, n, k, pass}); };
  const double outputs = double(architecture.outputs());

  ComputeTimeline timeline;
  double t = streamed(f * (parameters + double(Model<float>::kControlSlots)));  // zero the gradients
  for (const auto& l : layers) {
    const double values = b * double(l.fan_out);
    t += streamed(f * values) + gemm(batch, l.fan_out, l.fan_in, GemmPass::forward) + streamed(2 * f * values);  // bias, x w, activation
  }
  t += streamed(2 * f * b * outputs) + streamed(2 * f * b * outputs);  // keep the logits, the loss
  t += streamed(3 * f * b * outputs);                                  // the loss gradient
  for (std::size_t l = layers.size(); l-- > 0;) {
    const std::size_t block = l < chunk_rows.size() ? chunk_rows[l] : 0;
    for (const auto [first, end] : weight_chunks(layers[l].fan_in, block)) {
      t += gemm(end - first, layers[l].fan_out, batch, GemmPass::weight_gradient);
      if (first == 0) t += streamed(f * b * double(layers[l].fan_out));  // the bias gradient
      timeline.block_done.push_back(t);
    }
    if (l > 0)
      t += gemm(batch, layers[l].fan_in, layers[l].fan_out, GemmPass::input_gradient) + streamed(3 * f * b * double(layers[l].fan_in));
  }
  timeline.backward_end = t;
  timeline.after_sum = streamed(3 * f * parameters);  // p -= lr g
  if (precision == GradPrecision::fp16) timeline.after_sum += streamed(3 * f * parameters);  // check and unscale
  return timeline;
}

}  // namespace

std::optional<double> measured_sum_seconds(const Cluster& cluster, std::size_t ranks, double bytes) {
  const auto& m = cluster.measured;
  if (ranks != cluster.measured_ranks || cluster.ranks_per_node != cluster.measured_ranks_per_node || m.empty() ||
      bytes < m.front().bytes || bytes > m.back().bytes)
    return std::nullopt;
  const auto above = std::lower_bound(m.begin(), m.end(), bytes,
                                      [](const TimedSample& s, double b) { return s.bytes < b; });
  if (above->bytes == bytes || above == m.begin()) return above->seconds;
  const TimedSample& below = *(above - 1);
  if (!(below.seconds > 0 && above->seconds > 0)) return std::nullopt;
  const double f = std::log(bytes / below.bytes) / std::log(above->bytes / below.bytes);
  return std::exp(std::log(below.seconds) + f * (std::log(above->seconds) - std::log(below.seconds)));
}

double exchange_seconds(std::size_t ranks, std::size_t floats, GradPrecision precision, const Cluster& cluster,
                        const HostRates& rates) {
  if (ranks <= 1 || floats == 0) return 0;
  if (precision == GradPrecision::fp32) {
    const double bytes = double(floats) * kFloatBytes;
    if (const auto measured = measured_sum_seconds(cluster, ranks, bytes)) return *measured;
    return allreduce_exchange(ranks, cluster.ranks_per_node, bytes).seconds(cluster);
  }
  return compressed_exchange(ranks, cluster.ranks_per_node, floats).seconds(cluster) +
         compressed_conversion_bytes(ranks, floats) / rates.memory_bytes_per_second;
}

std::string_view exchange_name(std::size_t ranks, std::size_t floats, GradPrecision precision) {
  if (ranks <= 1) return "none";
  if (precision != GradPrecision::fp32) return "alltoallv+allgatherv";
  return allreduce_algorithm_name(open_mpi_allreduce_algorithm(ranks, double(floats) * kFloatBytes));
}

StepPrediction predict_step(const StepSpec& step, const Cluster& cluster, const HostRates& rates) {
  const std::size_t exchanged = step.architecture.parameter_count() + Model<float>::kControlSlots;
  const bool summed = step.ranks > 1;
  // As the trainer: buckets only when there is someone to sum with.
  std::optional<BucketPlan> buckets;
  if (summed && step.overlap && step.bucket_floats > 0)
    buckets.emplace(step.architecture, Model<float>::kControlSlots, step.bucket_floats);
  ComputeTimeline timeline =
      compute_timeline(step.architecture, step.batch_per_rank,
                       buckets ? buckets->chunk_rows() : std::span<const std::size_t>{}, step.precision, rates);
  const MeasuredSteps* measured = rates.steps_for(step.ranks);
  if (measured) {
    for (double& t : timeline.block_done) t *= measured->scale;
    timeline.backward_end *= measured->scale;
    timeline.after_sum *= measured->scale;
  }

  StepPrediction prediction;
  prediction.compute_seconds = timeline.total();
  if (summed && measured && !measured->spread.empty())
    prediction.wait_seconds =
        measured->mean_seconds * std::max(0.0, expected_largest(measured->spread, step.ranks) - 1);
  prediction.bytes_per_step = summed ? double(exchanged) * (step.precision == GradPrecision::fp32 ? kFloatBytes : kWire16Bytes) : 0;
  if (!buckets) {
    prediction.comm_seconds = exchange_seconds(step.ranks, summed ? exchanged : 0, step.precision, cluster, rates);
    prediction.step_seconds = prediction.compute_seconds + prediction.wait_seconds + prediction.comm_seconds;
  } else {
    // Each bucket's sum starts once backward made it final and the previous
    // sum is done (they run one at a time, in order).
    double exchange_end = 0;
    for (std::size_t k = 0; k < buckets->blocks(); ++k)
      for (const auto& range : buckets->after(k)) {
        const double seconds = exchange_seconds(step.ranks, range.count, step.precision, cluster, rates);
        exchange_end = std::max(exchange_end, timeline.block_done[k]) + seconds;
        prediction.comm_seconds += seconds;
      }
    // The last sum cannot end before the slowest rank's backward.
    prediction.step_seconds = prediction.wait_seconds +
                              (step.exchange_has_own_core
                                   ? std::max(timeline.backward_end, exchange_end) + timeline.after_sum
                                   : prediction.compute_seconds + prediction.comm_seconds);
  }
  prediction.exposed_comm_seconds = prediction.step_seconds - prediction.compute_seconds;
  return prediction;
}

namespace {

StepSpec step_at(const PlanSpec& spec, std::size_t ranks, std::size_t batch, const Cluster& cluster) {
  const bool spans_hosts = node_count(ranks, cluster.ranks_per_node) > 1;
  return {spec.architecture,
          batch,
          ranks,
          spec.precision,
          overlap_applies(spec.overlap, spans_hosts, spec.spare_core),
          spec.bucket_floats,
          spec.spare_core};
}

// Step time on one rank over step time on `ranks`, at `batch` per rank.
double efficiency_at(const PlanSpec& spec, std::size_t ranks, std::size_t batch, const Cluster& cluster,
                     const HostRates& rates) {
  const double alone = predict_step(step_at(spec, 1, batch, cluster), cluster, rates).step_seconds;
  return alone / predict_step(step_at(spec, ranks, batch, cluster), cluster, rates).step_seconds;
}

// The smallest batch in [1, kLargestBatchSearched] reaching the target,
// searched as if efficiency only grew with the batch (compute grows with
// it, the exchange does not).
std::optional<std::size_t> smallest_efficient_batch(const PlanSpec& spec, std::size_t ranks, const Cluster& cluster,
                                                    const HostRates& rates) {
  const auto enough = [&](std::size_t batch) {
    return efficiency_at(spec, ranks, batch, cluster, rates) >= kTargetEfficiency;
  };
  if (!enough(kLargestBatchSearched)) return std::nullopt;
  std::size_t low = 0, high = kLargestBatchSearched;  // enough(high); low == 0 or !enough(low)
  while (high - low > 1) {
    const std::size_t middle = low + (high - low) / 2;
    (enough(middle) ? high : low) = middle;
  }
  return high;
}

}  // namespace

std::vector<PlanRow> plan_rows(const PlanSpec& spec, std::span<const std::size_t> ranks, const Cluster& cluster,
                               const HostRates& rates) {
  const std::size_t exchanged = spec.architecture.parameter_count() + Model<float>::kControlSlots;
  const double alone = predict_step(step_at(spec, 1, spec.batch_per_rank, cluster), cluster, rates).step_seconds;
  std::vector<PlanRow> rows;
  for (const std::size_t p : ranks) {
    const StepSpec step = step_at(spec, p, spec.batch_per_rank, cluster);
    PlanRow row;
    row.ranks = p;
    row.nodes = node_count(p, cluster.ranks_per_node);
    row.overlap = step.overlap && p > 1;
    row.exchange = exchange_name(p, exchanged, spec.precision);
    row.step = predict_step(step, cluster, rates);
    row.samples_per_second = double(p * spec.batch_per_rank) / row.step.step_seconds;
    row.speedup = double(p) * alone / row.step.step_seconds;
    row.efficiency = row.speedup / double(p);
    row.min_batch_per_rank = smallest_efficient_batch(spec, p, cluster, rates);
    rows.push_back(row);
  }
  return rows;
}

namespace {

// Least squares of A x = b over the columns in `use` (the others 0), by the
// normal equations with partial pivoting; nullopt when they are singular.
std::optional<std::array<double, 3>> least_squares(const std::vector<std::array<double, 3>>& a,
                                                   const std::vector<double>& b, const std::array<bool, 3>& use) {
  std::array<std::size_t, 3> columns{};
  std::size_t m = 0;
  for (std::size_t j = 0; j < 3; ++j)
    if (use[j]) columns[m++] = j;
  double normal[3][4] = {};
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t r = 0; r < m; ++r) {
      for (std::size_t c = 0; c < m; ++c) normal[r][c] += a[i][columns[r]] * a[i][columns[c]];
      normal[r][m] += a[i][columns[r]] * b[i];
    }
  double largest = 0;
  for (std::size_t r = 0; r < m; ++r) largest = std::max(largest, normal[r][r]);
  for (std::size_t c = 0; c < m; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < m; ++r)
      if (std::abs(normal[r][c]) > std::abs(normal[pivot][c])) pivot = r;
    if (!(std::abs(normal[pivot][c]) > 1e-12 * largest)) return std::nullopt;
    std::swap(normal[c], normal[pivot]);
    for (std::size_t r = 0; r < m; ++r) {
      if (r == c) continue;
      const double factor = normal[r][c] / normal[c][c];
      for (std::size_t k = c; k <= m; ++k) normal[r][k] -= factor * normal[c][k];
    }
  }
  std::array<double, 3> x{};
  for (std::size_t r = 0; r < m; ++r) x[columns[r]] = normal[r][m] / normal[r][r];
  return x;
}

}  // namespace

Link fit_link(std::size_t ranks, std::size_t ranks_per_node, std::span<const TimedSample> samples,
              const Link& shared_memory) {
  const bool one_node = node_count(ranks, ranks_on_a_node(ranks, ranks_per_node)) <= 1;
  std::vector<std::array<double, 3>> a;
  std::vector<double> b;
  for (const auto& sample : samples) {
    if (!(sample.seconds > 0)) continue;
    const ExchangeTerms terms = allreduce_exchange(ranks, ranks_per_node, sample.bytes);
    const CostTerms fitted = one_node ? terms.shared_memory : terms.network;
    const double rest = one_node ? 0 : terms.shared_memory.seconds(shared_memory);
    const double weight = 1 / sample.seconds;  // relative error
    a.push_back({fitted.alphas * weight, fitted.beta_bytes * weight, fitted.gamma_bytes * weight});
    b.push_back((sample.seconds - rest) * weight);
  }
  if (a.empty()) throw std::invalid_argument("fit_link: no sample took a positive time");
  // Columns scaled to one (seconds per message and per byte differ by 1e9),
  // then every subset of non-negative unknowns tried: the feasible solution
  // with the least residual is the non-negative least squares one.
  std::array<double, 3> scale{};
  for (const auto& row : a)
    for (std::size_t j = 0; j < 3; ++j) scale[j] = std::max(scale[j], std::abs(row[j]));
  for (auto& row : a)
    for (std::size_t j = 0; j < 3; ++j) row[j] = scale[j] > 0 ? row[j] / scale[j] : 0;
  std::array<double, 3> best{};
  double best_residual = std::numeric_limits<double>::infinity();
  for (unsigned subset = 0; subset < 8; ++subset) {
    std::array<bool, 3> use{};
    for (std::size_t j = 0; j < 3; ++j) use[j] = (subset >> j & 1u) != 0 && scale[j] > 0;
    if (subset != 0 && use == std::array<bool, 3>{}) continue;
    const auto x = least_squares(a, b, use);
    if (!x || (*x)[0] < 0 || (*x)[1] < 0 || (*x)[2] < 0) continue;
    double residual = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double e = a[i][0] * (*x)[0] + a[i][1] * (*x)[1] + a[i][2] * (*x)[2] - b[i];
      residual += e * e;
    }
    if (residual < best_residual) {
      best_residual = residual;
      best = *x;
    }
  }
  const auto unscale = [&](std::size_t j) { return scale[j] > 0 ? best[j] / scale[j] : 0.0; };
  return {unscale(0), unscale(1), unscale(2)};
}

}  // namespace sinapsis
