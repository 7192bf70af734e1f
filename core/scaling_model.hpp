// A model of one training step's time on p ranks, for `sinapsis plan`:
// compute from the step's GEMMs and memory-bound passes, and the gradient
// exchange from the Thakur–Rabenseifner–Gropp (2005) cost model of the
// algorithm Open MPI 4.1 actually runs at that size and rank count, with the
// buckets, overlap and 16-bit wire of the trainer as they are built. Pure:
// no MPI, no clock, no I/O; the host's rates and the link come from the
// caller (measured, calibrated or given).
#pragma once

#include <cstddef>
#include <functional>   // std::function
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/architecture.hpp"
#include "core/half.hpp"  // GradPrecision

namespace sinapsis {

// A link of the cost model. A message of n bytes costs alpha + n beta; a
// reduction of n bytes costs n gamma.
struct Link {
  double alpha = 0;  // seconds per message (latency)
  double beta = 0;   // seconds per byte sent
  double gamma = 0;  // seconds per byte reduced
  bool operator==(const Link&) const = default;
};

// How much of each cost an operation pays; its time on a link is
// dot(terms, link). Linear in the link, which is what fit_link() solves for.
struct CostTerms {
  double alphas = 0, beta_bytes = 0, gamma_bytes = 0;
  double seconds(const Link& link) const { return alphas * link.alpha + beta_bytes * link.beta + gamma_bytes * link.gamma; }
  CostTerms& operator+=(const CostTerms& other) {
    alphas += other.alphas;
    beta_bytes += other.beta_bytes;
    gamma_bytes += other.gamma_bytes;
    return *this;
  }
  friend CostTerms operator+(CostTerms a, const CostTerms& b) { return a += b; }
  bool operator==(const CostTerms&) const = default;
};

// Two ranks on one host of this machine kind exchanging over shared memory
// (REFERENCE.md §4: 4 B 0.6 µs, 1 MiB 0.32 ms, 16 MiB 5.3 ms for 2 ranks):
// alpha from the smallest message, beta + gamma/2 from the large ones, split
// 2:1 between copying and summing.
inline constexpr Link kSharedMemoryLink{0.3e-6, 2.5e-10, 1.25e-10};

// The allreduce algorithms Open MPI 4.1's coll/tuned runs for a commutative
// operation. reduce_bcast is its "nonoverlapping" (a tree reduce to rank 0,
// then a tree broadcast); linear is reduce and broadcast through rank 0.
enum class AllreduceAlgorithm { linear, reduce_bcast, recursive_doubling, ring, rabenseifner };
std::string_view allreduce_algorithm_name(AllreduceAlgorithm algorithm);

// What MPI_Allreduce of `bytes` bytes of floats runs on `ranks` ranks in
// Open MPI 4.1.x: the fixed decision of coll/tuned (thresholds by rank count
// and size; its "segmented ring" is called with no segment size, which runs
// the plain ring), then the algorithms' own fallbacks (ring with fewer
// floats than ranks runs recursive doubling; Rabenseifner with fewer floats
// than the largest power of two <= ranks runs linear).
AllreduceAlgorithm open_mpi_allreduce_algorithm(std::size_t ranks, double bytes);

// The cost of one algorithm on `ranks` ranks each holding `bytes` bytes,
// non-powers of two handled as Open MPI does: recursive doubling and
// Rabenseifner first fold the ranks beyond the largest power of two p' into
// their neighbours and hand them the result at the end.
//   ring:               2(p-1) a + 2(p-1)/p n b + (p-1)/p n g
//   recursive doubling: lg p' (a + n b + n g)            [+ 2a + 2n b + n g if p != p']
//   Rabenseifner:       2 lg p' a + 2(p'-1)/p' n b + (p'-1)/p' n g
//                                                        [+ 3a + 2n b + n/2 g if p != p']
//   reduce_bcast:       2 ceil(lg p) (a + n b) + ceil(lg p) n g   (binomial trees)
//   linear:             2(p-1)(a + n b) + (p-1) n g
CostTerms allreduce_terms(AllreduceAlgorithm algorithm, std::size_t ranks, double bytes);

// The machines: ranks_per_node ranks on each node, shared memory between
// them, `network` between nodes.
// One measured allreduce: `bytes` bytes of floats took `seconds`.
struct TimedSample {
  double bytes = 0, seconds = 0;
};

struct Cluster {
  Cluster() = default;
  Cluster(std::size_t ranks_per_node_, const Link& network_, const Link& shared_memory_ = kSharedMemoryLink)
      : ranks_per_node(ranks_per_node_), network(network_), shared_memory(shared_memory_) {}

  std::size_t ranks_per_node = 1;
  Link network;
  Link shared_memory = kSharedMemoryLink;
  // Sums measured on this cluster (sinapsis info --network) with
  // measured_ranks ranks, measured_ranks_per_node per node, ascending bytes.
  // An fp32 sum on those ranks of a size within their range takes the
  // measured time, interpolated between the two sizes around it (log-log),
  // instead of the link's straight line, which cannot follow the caches:
  // 2 ranks on one host here sum 4 MiB in 1.0 ms and 8 MiB in 7.4 ms.
  std::size_t measured_ranks = 0, measured_ranks_per_node = 0;
  std::vector<TimedSample> measured;
};

// The measured time of an fp32 sum of `bytes` on `ranks` ranks, when the
// cluster's measurements cover it (see Cluster::measured).
std::optional<double> measured_sum_seconds(const Cluster& cluster, std::size_t ranks, double bytes);

// One exchange's costs on each link.
struct ExchangeTerms {
  CostTerms network, shared_memory;
  double seconds(const Cluster& cluster) const {
    return network.seconds(cluster.network) + shared_memory.seconds(cluster.shared_memory);
  }
};

// Nodes the ranks fill, ranks_per_node on each (the last one may hold fewer).
std::size_t node_count(std::size_t ranks, std::size_t ranks_per_node);

// One allreduce algorithm on `ranks` ranks placed in rank order, k =
// ranks_per_node to a node (ranks 0..k-1 on the first, ...; the last node
// may hold fewer): which exchanges of it cross the network link and which
// stay in shared memory. On one node everything is shared memory
// (allreduce_terms); on several:
//   ring: of each of its 2(p-1) steps, one hop per node crosses to the next
//     node while the others stay within; the step waits for the slower,
//     network hop: 2(p-1)(a + n/p b) + (p-1)/p n g, all on the network, one
//     flow per node link.
//   recursive doubling, Rabenseifner: the exchange at distance d (rank r with
//     r xor d) stays within a node while k is a multiple of 2d (for k a
//     power of two: d < k); at larger distances all k ranks of a node send
//     through its link at once, so the bytes of each such exchange cost
//     k b. Recursive doubling moves n at every distance; Rabenseifner n/2d,
//     so its large halves stay within the node:
//       RD, p = 8, k = 2:  shared memory a + n b + n g,
//                          network 2(a + 2n b + n g)
//       Rabenseifner:      shared memory 2 lg k a + 2(1 - 1/k) n b + (1 - 1/k) n g,
//                          network 2 lg(p/k) a + 2(1/k - 1/p) k n b + (1/k - 1/p) n g
//     The fold of a non-power-of-two count pairs ranks 2j and 2j+1: within a
//     node when k is even, else across it (one flow per link).
//   reduce_bcast (binomial trees): level d joins r and r + d, within a node
//     while k is a multiple of 2d; a crossing level sends at most one message
//     through each node link, so its bytes cost b, not k b.
//   linear: of rank 0's p - 1 receives (and sends), k - 1 are on its node.
// With k == 1 every exchange crosses and this is the flat algorithm on the
// network. Open MPI does not know the nodes when it picks the algorithm
// (coll/tuned decides by p and n alone; no hierarchy runs by default), so
// the algorithm is the flat one's and only its cost depends on placement.
ExchangeTerms allreduce_terms_on_nodes(AllreduceAlgorithm algorithm, std::size_t ranks, std::size_t ranks_per_node,
                                       double bytes);

// MPI_Allreduce (sum) of `bytes` bytes of floats on `ranks` ranks, as
// sinapsis makes it: ONE allreduce over all ranks, the algorithm Open MPI
// picks for (ranks, bytes), costed on the nodes (allreduce_terms_on_nodes).
ExchangeTerms allreduce_exchange(std::size_t ranks, std::size_t ranks_per_node, double bytes);

// Communicator::sum_compressed of `floats` floats (bf16/fp16 on the wire):
// an alltoallv sending every other rank its chunk as 16-bit values, then an
// allgatherv of the summed chunks. Open MPI 4.1's fixed decision picks the
// alltoallv by rank count alone: pairwise below 4, from 64 to 127 and from
// 256 to 1023 ranks ((p-1) exchanges in turn, (p-1) a); basic linear
// otherwise (every message posted at once: one a, plus each message's
// software overhead, taken as the shared-memory link's a, the cost of a
// message with no wire in the way; over TCP each also costs a system call,
// which this leaves out). The allgatherv's algorithm sends its messages in
// turn. With several nodes every step has a hop between nodes, so its
// latency is the network's; bytes: the k ranks of a node send to the p - k
// others through its one link, to the k - 1 others over shared memory. The
// wire only; the conversions are compressed_conversion_bytes().
ExchangeTerms compressed_exchange(std::size_t ranks, std::size_t ranks_per_node, std::size_t floats);
// Memory traffic of sum_compressed's conversions on one rank: rounding all
// floats to 16 bits, widening and adding the p contributions to its chunk,
// rounding its chunk, widening the whole result.
double compressed_conversion_bytes(std::size_t ranks, std::size_t floats);

// Which of the step's products a GEMM is: x w, x^T dy, dy w^T (each runs
// BLAS with its own transposes, see dense.hpp).
enum class GemmPass { forward, weight_gradient, input_gradient };

// One sgemm: C [m, n] += op(A) [m, k] op(B) [k, n].
struct GemmShape {
  std::size_t m = 0, n = 0, k = 0;
  GemmPass pass = GemmPass::forward;
  double flops() const { return 2.0 * double(m) * double(n) * double(k); }
  auto operator<=>(const GemmShape&) const = default;
};
// Seconds one sgemm of a shape takes on this host.
using GemmSeconds = std::function<double(const GemmShape&)>;
// Every shape at the same rate.
GemmSeconds gemm_at_gflops(double gflops);

// The trainer's own step (core/trainer.hpp: batch assembly and its hand-off,
// forward, loss, backward, update) timed on this host with `together` copies
// running at once, as that many ranks of a job share its cores, caches and
// memory bus (sinapsis plan's calibration, launch/step_calibration.hpp).
//   scale   the steps' mean over what compute_timeline() makes of the GEMM
//           and memory rates for the same batch: the trainer's work around
//           the GEMMs and the ranks' contention, applied to every batch size
//   mean_seconds  that mean
//   spread  each step's time over that mean, ascending (mean 1): how much one
//           rank's step varies, which p ranks pay as the slowest one's:
//           mean_seconds (expected_largest(spread, p) - 1) per step, the same
//           seconds at every batch size (the variation of a step on a shared
//           host comes mostly from interruptions of their own length, which
//           a longer step amortizes)
struct MeasuredSteps {
  std::size_t together = 1;
  double scale = 1;
  double mean_seconds = 0;
  std::vector<double> spread;
};

// The mean of the largest of p independent draws from `sorted` (ascending,
// equally likely values): sum over i of x_(i) ((i/n)^p - ((i-1)/n)^p).
// p = 1: the mean; grows with p towards the largest value. 0 when empty.
double expected_largest(std::span<const double> sorted, std::size_t p);

// What one rank's host does per second.
struct HostRates {
  GemmSeconds gemm;
  double memory_bytes_per_second = 0;  // streaming reads + writes
  // The trainer's step measured with 1, 2, ... copies at once (ascending
  // `together`, none when the rates were given): a step of p ranks uses the
  // one with the largest together <= p, and on p > 1 ranks waits for the
  // slowest (StepPrediction::wait_seconds).
  std::vector<MeasuredSteps> measured_steps;
  const MeasuredSteps* steps_for(std::size_t ranks) const;
};

// The trainer's --overlap, before it is resolved for a job.
enum class OverlapMode { automatic, on, off };
// The trainer's rule (train_command.cpp): on, or automatic when the ranks
// span several hosts AND each rank has a core beyond its BLAS threads for the
// exchange thread.
bool overlap_applies(OverlapMode mode, bool spans_hosts, bool spare_core);

// One rank's step as the trainer runs it.
struct StepSpec {
  Architecture architecture;
  std::size_t batch_per_rank = 1;
  std::size_t ranks = 1;
  GradPrecision precision = GradPrecision::fp32;
  // The gradient sum in buckets of bucket_floats started during backward
  // (--overlap resolved on); otherwise one fused sum after backward.
  bool overlap = false;
  std::size_t bucket_floats = 0;
  // Whether the background exchange thread has a core of its own. Without
  // one it shares the compute core and hides nothing (BENCHMARKS.md,
  // "Overlap: which mechanism").
  bool exchange_has_own_core = true;
};

// The GEMMs of one step in the order it runs them: each layer's forward
// [batch, fan_out, fan_in]; then from the last layer down its weight
// gradient in the row blocks of chunk_rows (BucketPlan::chunk_rows(); empty:
// whole) [rows, fan_out, batch] and, except for the first layer, its input
// gradient [batch, fan_in, fan_out].
std::vector<GemmShape> step_gemm_shapes(const Architecture& architecture, std::size_t batch,
                                        std::span<const std::size_t> chunk_rows = {});

struct StepPrediction {
  double compute_seconds = 0;       // forward, backward, update and the passes around them
  double comm_seconds = 0;          // every exchange of the step, hidden or not
  // With p > 1 ranks and measured steps: what waiting for the slowest rank
  // adds, mean_seconds (expected_largest(spread, p) - 1). train counts it in
  // comm_seconds (the sum waits for it), and so does exposed_comm_seconds.
  double wait_seconds = 0;
  double exposed_comm_seconds = 0;  // step - compute: what the exchange (and the wait) adds
  double step_seconds = 0;
  double bytes_per_step = 0;        // gradient and control values on the wire (metrics.csv's)
};

StepPrediction predict_step(const StepSpec& step, const Cluster& cluster, const HostRates& rates);

// The exchange alone, fused: seconds of one gradient sum of `floats` floats
// on `ranks` ranks, conversions included for a 16-bit wire.
double exchange_seconds(std::size_t ranks, std::size_t floats, GradPrecision precision, const Cluster& cluster,
                        const HostRates& rates);

// A plan: the step at each rank count, against the same step on one rank.
struct PlanSpec {
  Architecture architecture;
  std::size_t batch_per_rank = 1;
  GradPrecision precision = GradPrecision::fp32;
  OverlapMode overlap = OverlapMode::automatic;
  std::size_t bucket_floats = 0;
  bool spare_core = false;  // a core per rank beyond its BLAS threads
};

struct PlanRow {
  std::size_t ranks = 1, nodes = 1;
  bool overlap = false;  // --overlap as resolved at this rank count
  // What the fused sum runs: Open MPI's allreduce algorithm for the rank
  // count and size, "alltoallv+allgatherv" for a 16-bit wire, "none" on one
  // rank.
  std::string_view exchange = "none";
  StepPrediction step;
  double samples_per_second = 0;
  double speedup = 1;     // samples per second against one rank at the same batch per rank
  double efficiency = 1;  // speedup / ranks
  // The smallest batch per rank whose efficiency is >= kTargetEfficiency,
  // if one is <= kLargestBatchSearched.
  std::optional<std::size_t> min_batch_per_rank;
};

inline constexpr double kTargetEfficiency = 0.9;
inline constexpr std::size_t kLargestBatchSearched = std::size_t{1} << 20;

// The name of what a fused sum of `floats` floats runs (PlanRow::exchange).
std::string_view exchange_name(std::size_t ranks, std::size_t floats, GradPrecision precision);

std::vector<PlanRow> plan_rows(const PlanSpec& spec, std::span<const std::size_t> ranks, const Cluster& cluster,
                               const HostRates& rates);

// The link that best explains allreduce times measured on `ranks` ranks,
// ranks_per_node per node: non-negative least squares on the cost terms of
// the algorithm Open MPI picks at each size (allreduce_exchange), in
// relative error (each sample weighted by 1/seconds, so small messages
// count as much as large ones). With one node the result is the
// shared-memory link; with several the network link, the exchanges that
// stay within a node taken at `shared_memory`. Needs at least one sample with seconds > 0.
Link fit_link(std::size_t ranks, std::size_t ranks_per_node, std::span<const TimedSample> samples,
              const Link& shared_memory = kSharedMemoryLink);

}  // namespace sinapsis
