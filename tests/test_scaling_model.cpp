// The step-time model of `sinapsis plan`: the closed forms of Thakur,
// Rabenseifner and Gropp (2005) for the allreduce algorithms, Open MPI 4.1's
// choice among them, their cost on nodes of several ranks and the compressed
// exchange, the compute
// of a step, the overlap timeline, the plan rows and the fit of a link.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/gradient_buckets.hpp"
#include "core/model.hpp"
#include "core/scaling_model.hpp"

namespace sinapsis {
namespace {

constexpr Link kLink{5e-6, 1e-9, 2e-10};

Architecture medium() {
  return Architecture::mlp(784, std::vector<std::size_t>{256, 128}, Activation::relu, 10, Activation::softmax);
}
Architecture wide() {
  return Architecture::mlp(784, std::vector<std::size_t>{1024, 1024}, Activation::relu, 10, Activation::softmax);
}
HostRates rates(double gflops = 50) { return {gemm_at_gflops(gflops), 10e9, {}}; }

TEST(AllreduceTerms, RingIsTheClosedFormAtPowersOfTwo) {
  const double n = 1e6;
  for (const std::size_t p : {2u, 4u, 8u}) {
    const double q = double(p);
    const double expected = 2 * (q - 1) * kLink.alpha + 2 * (q - 1) / q * n * kLink.beta + (q - 1) / q * n * kLink.gamma;
    EXPECT_DOUBLE_EQ(allreduce_terms(AllreduceAlgorithm::ring, p, n).seconds(kLink), expected) << p;
  }
}

TEST(AllreduceTerms, RecursiveDoublingIsTheClosedFormAtPowersOfTwo) {
  const double n = 4096;
  for (const auto& [p, lg] : {std::pair{2u, 1.0}, std::pair{4u, 2.0}, std::pair{8u, 3.0}}) {
    const double expected = lg * (kLink.alpha + n * kLink.beta + n * kLink.gamma);
    EXPECT_DOUBLE_EQ(allreduce_terms(AllreduceAlgorithm::recursive_doubling, p, n).seconds(kLink), expected) << p;
  }
}

TEST(AllreduceTerms, RabenseifnerIsTheClosedFormAtPowersOfTwo) {
  const double n = 8e6;
  for (const auto& [p, lg] : {std::pair{2u, 1.0}, std::pair{4u, 2.0}, std::pair{8u, 3.0}}) {
    const double q = double(p);
    const double expected = 2 * lg * kLink.alpha + 2 * (q - 1) / q * n * kLink.beta + (q - 1) / q * n * kLink.gamma;
    EXPECT_DOUBLE_EQ(allreduce_terms(AllreduceAlgorithm::rabenseifner, p, n).seconds(kLink), expected) << p;
  }
}

TEST(AllreduceTerms, NonPowersOfTwoFoldTheExtraRanksAsOpenMpiDoes) {
  const double n = 1000;
  // 6 ranks: 4 do recursive doubling (2 steps); the 2 extra send their
  // values in before and get the result after.
  const CostTerms rd = allreduce_terms(AllreduceAlgorithm::recursive_doubling, 6, n);
  EXPECT_EQ(rd, (CostTerms{2 + 2, 2 * n + 2 * n, 2 * n + n}));
  // Rabenseifner on 6: the 4-rank algorithm plus the halves swapped, the
  // reduced half returned and the whole result sent to the folded rank.
  const CostTerms rab = allreduce_terms(AllreduceAlgorithm::rabenseifner, 6, n);
  EXPECT_EQ(rab, (CostTerms{4 + 3, 2 * 0.75 * n + 2 * n, 0.75 * n + n / 2}));
  // The ring needs no folding: its closed form holds for any p.
  EXPECT_EQ(allreduce_terms(AllreduceAlgorithm::ring, 6, n), (CostTerms{10, 2 * 5.0 / 6 * n, 5.0 / 6 * n}));
  // 6 ranks cost more than the 4 they reduce to, less than twice.
  for (const auto algorithm : {AllreduceAlgorithm::recursive_doubling, AllreduceAlgorithm::rabenseifner}) {
    const double four = allreduce_terms(algorithm, 4, n).seconds(kLink);
    const double six = allreduce_terms(algorithm, 6, n).seconds(kLink);
    EXPECT_GT(six, four);
    EXPECT_LT(six, 2 * four);
  }
}

TEST(AllreduceTerms, OneRankCostsNothing) {
  for (const auto algorithm : {AllreduceAlgorithm::linear, AllreduceAlgorithm::reduce_bcast, AllreduceAlgorithm::ring,
                               AllreduceAlgorithm::recursive_doubling, AllreduceAlgorithm::rabenseifner})
    EXPECT_EQ(allreduce_terms(algorithm, 1, 1e6), CostTerms{});
}

TEST(AllreduceTerms, GrowWithBytesAndRanks) {
  for (const auto algorithm : {AllreduceAlgorithm::linear, AllreduceAlgorithm::reduce_bcast, AllreduceAlgorithm::ring,
                               AllreduceAlgorithm::recursive_doubling, AllreduceAlgorithm::rabenseifner}) {
    double previous = 0;
    for (double n = 4; n < 1e9; n *= 3) {
      const double t = allreduce_terms(algorithm, 8, n).seconds(kLink);
      EXPECT_GT(t, previous) << allreduce_algorithm_name(algorithm) << " " << n;
      previous = t;
    }
    // Over powers of two for all; over every count for those that do not
    // fold (folding makes 7 ranks dearer than 8, below).
    const bool folds = algorithm == AllreduceAlgorithm::recursive_doubling || algorithm == AllreduceAlgorithm::rabenseifner;
    previous = 0;
    for (std::size_t p = 2; p <= 1024; p = folds ? 2 * p : p + 1) {
      const double t = allreduce_terms(algorithm, p, 1e6).seconds(kLink);
      EXPECT_GE(t, previous) << allreduce_algorithm_name(algorithm) << " " << p;
      previous = t;
    }
  }
  EXPECT_GT(allreduce_terms(AllreduceAlgorithm::recursive_doubling, 7, 1e6).seconds(kLink),
            allreduce_terms(AllreduceAlgorithm::recursive_doubling, 8, 1e6).seconds(kLink));
}

TEST(OpenMpiDecision, FollowsTheTunedFixedRules) {
  using A = AllreduceAlgorithm;
  // 2 ranks: ring below 8 B (one float: the ring falls back, below),
  // recursive doubling below 4 KiB, then alternating up to 256 KiB,
  // Rabenseifner beyond.
  EXPECT_EQ(open_mpi_allreduce_algorithm(2, 4), A::recursive_doubling);
  EXPECT_EQ(open_mpi_allreduce_algorithm(2, 1024), A::recursive_doubling);
  EXPECT_EQ(open_mpi_allreduce_algorithm(2, 4096), A::ring);
  EXPECT_EQ(open_mpi_allreduce_algorithm(2, 12288), A::recursive_doubling);
  EXPECT_EQ(open_mpi_allreduce_algorithm(2, 100000), A::ring);  // the segmented ring, without segments
  EXPECT_EQ(open_mpi_allreduce_algorithm(2, 262144), A::rabenseifner);
  EXPECT_EQ(open_mpi_allreduce_algorithm(8, 8191), A::recursive_doubling);
  EXPECT_EQ(open_mpi_allreduce_algorithm(8, 8192), A::rabenseifner);
  EXPECT_EQ(open_mpi_allreduce_algorithm(100, 200000), A::recursive_doubling);
  EXPECT_EQ(open_mpi_allreduce_algorithm(200, 1000), A::reduce_bcast);
  EXPECT_EQ(open_mpi_allreduce_algorithm(1024, 8000), A::recursive_doubling);
  EXPECT_EQ(open_mpi_allreduce_algorithm(1024, 1e7), A::rabenseifner);
  EXPECT_EQ(open_mpi_allreduce_algorithm(5000, 1000), A::reduce_bcast);
  EXPECT_EQ(open_mpi_allreduce_algorithm(5000, 20000), A::recursive_doubling);
}

TEST(OpenMpiDecision, AlgorithmsFallBackWhenTooFewFloats) {
  // The ring with fewer floats than ranks runs recursive doubling: 40 ranks
  // pick the ring below 128 B, and 124 B are 31 floats.
  EXPECT_EQ(open_mpi_allreduce_algorithm(40, 124), AllreduceAlgorithm::recursive_doubling);
  EXPECT_EQ(open_mpi_allreduce_algorithm(40, 128), AllreduceAlgorithm::rabenseifner);  // 32 floats: enough
  // Rabenseifner with fewer floats than the power of two below the ranks
  // runs linear: 16384 ranks pick it from 32 KiB, 8192 floats.
  EXPECT_EQ(open_mpi_allreduce_algorithm(16384, 32768), AllreduceAlgorithm::linear);
  EXPECT_EQ(open_mpi_allreduce_algorithm(8192, 32768), AllreduceAlgorithm::rabenseifner);
}

TEST(OnNodes, OneRankPerNodeIsTheFlatAlgorithm) {
  for (const std::size_t p : {2u, 3u, 6u, 8u, 64u, 1000u})
    for (const double n : {4.0, 5000.0, 1e5, 3e6, 4e7}) {
      const ExchangeTerms terms = allreduce_exchange(p, 1, n);
      EXPECT_EQ(terms.network, allreduce_terms(open_mpi_allreduce_algorithm(p, n), p, n)) << p << " " << n;
      EXPECT_EQ(terms.shared_memory, CostTerms{});
    }
}

TEST(OnNodes, OneNodeIsTheFlatAlgorithmOnSharedMemory) {
  for (const auto& [p, k] : {std::pair{4u, 8u}, std::pair{8u, 8u}, std::pair{6u, 6u}}) {
    const ExchangeTerms terms = allreduce_exchange(p, k, 1e6);
    EXPECT_EQ(terms.network, CostTerms{}) << p << "/" << k;
    EXPECT_EQ(terms.shared_memory, allreduce_terms(AllreduceAlgorithm::rabenseifner, p, 1e6)) << p << "/" << k;
  }
}

// Open MPI makes one flat allreduce: the algorithm is its choice for all
// the ranks and the whole size, not for the node count and a slice. 512
// ranks, 100 kB: Rabenseifner; 64 nodes with 12.5 kB each would have been
// recursive doubling.
TEST(OnNodes, TheAlgorithmIsOpenMpisForAllTheRanks) {
  ASSERT_EQ(open_mpi_allreduce_algorithm(512, 1e5), AllreduceAlgorithm::rabenseifner);
  ASSERT_EQ(open_mpi_allreduce_algorithm(64, 1e5 / 8), AllreduceAlgorithm::recursive_doubling);
  const ExchangeTerms terms = allreduce_exchange(512, 8, 1e5);
  const ExchangeTerms rabenseifner = allreduce_terms_on_nodes(AllreduceAlgorithm::rabenseifner, 512, 8, 1e5);
  EXPECT_EQ(terms.network, rabenseifner.network);
  EXPECT_EQ(terms.shared_memory, rabenseifner.shared_memory);
  EXPECT_EQ(exchange_name(512, 25000, GradPrecision::fp32), "rabenseifner");
}

void expect_terms(const CostTerms& actual, const CostTerms& expected, const std::string& what) {
  EXPECT_DOUBLE_EQ(actual.alphas, expected.alphas) << what;
  EXPECT_DOUBLE_EQ(actual.beta_bytes, expected.beta_bytes) << what;
  EXPECT_DOUBLE_EQ(actual.gamma_bytes, expected.gamma_bytes) << what;
}

TEST(OnNodes, RingStepsWaitForTheirHopBetweenNodes) {
  // 8 ranks, 2 or 4 to a node: each of the 14 steps sends n/8 from each
  // node's last rank to the next node's first, one flow per link.
  const double n = 1e6;
  for (const std::size_t k : {2u, 4u}) {
    const ExchangeTerms terms = allreduce_terms_on_nodes(AllreduceAlgorithm::ring, 8, k, n);
    expect_terms(terms.network, {14, 14 * n / 8, 7.0 / 8 * n}, "ring network, k " + std::to_string(k));
    EXPECT_EQ(terms.shared_memory, CostTerms{}) << k;
  }
}

TEST(OnNodes, RecursiveDoublingCrossesFromDistanceK) {
  // 8 ranks: distances 1, 2, 4, n bytes each. Below k within the node; from
  // k across it, all k ranks of a node through its link at once.
  const double n = 4096;
  ExchangeTerms terms = allreduce_terms_on_nodes(AllreduceAlgorithm::recursive_doubling, 8, 2, n);
  expect_terms(terms.shared_memory, {1, n, n}, "k 2 shared memory");
  expect_terms(terms.network, {2, 2 * 2 * n, 2 * n}, "k 2 network");
  terms = allreduce_terms_on_nodes(AllreduceAlgorithm::recursive_doubling, 8, 4, n);
  expect_terms(terms.shared_memory, {2, 2 * n, 2 * n}, "k 4 shared memory");
  expect_terms(terms.network, {1, 4 * n, n}, "k 4 network");
}

TEST(OnNodes, RabenseifnerKeepsItsLargeHalvesWithinTheNode) {
  // 8 ranks, 4 to a node: distances 1 and 2 (n/2 and n/4 each way) within,
  // distance 4 (n/8) across with 4 flows per link.
  const double n = 8e6;
  const ExchangeTerms terms = allreduce_terms_on_nodes(AllreduceAlgorithm::rabenseifner, 8, 4, n);
  expect_terms(terms.shared_memory, {4, 2 * (n / 2 + n / 4), n / 2 + n / 4}, "shared memory");
  expect_terms(terms.network, {2, 2 * 4 * n / 8, n / 8}, "network");
  // Denser nodes put less on the network than one rank per node.
  const Cluster dense{4, kLink, kSharedMemoryLink};
  EXPECT_LT(allreduce_exchange(16, 4, n).seconds(dense), allreduce_exchange(16, 1, n).seconds(dense));
}

TEST(OnNodes, TreesAndLinearSendOneMessageAtATimeThroughALink) {
  const double n = 1000;
  // Binomial trees on 16 ranks, 4 to a node: levels 1 and 2 within, 4 and 8
  // across, each level down and up.
  ExchangeTerms terms = allreduce_terms_on_nodes(AllreduceAlgorithm::reduce_bcast, 16, 4, n);
  expect_terms(terms.shared_memory, {4, 4 * n, 2 * n}, "trees shared memory");
  expect_terms(terms.network, {4, 4 * n, 2 * n}, "trees network");
  // Linear: rank 0 hears from 3 on its node and 12 beyond, then answers each.
  terms = allreduce_terms_on_nodes(AllreduceAlgorithm::linear, 16, 4, n);
  expect_terms(terms.shared_memory, {6, 6 * n, 3 * n}, "linear shared memory");
  expect_terms(terms.network, {24, 24 * n, 12 * n}, "linear network");
}

// Open MPI's pairs (coll_base_allreduce.c, recursive doubling and
// redscat_allgather, which fold alike): the first 2 extra ranks pair up,
// the odd one of each survives as rank / 2, the others as rank - extra;
// survivor v exchanges with v xor d. A step stays within the nodes when
// every pair shares a node.
std::vector<bool> steps_within_by_pairs(std::size_t p, std::size_t k) {
  std::size_t power = 1;
  while (2 * power <= p) power *= 2;
  const std::size_t extra = p - power;
  const auto rank_of = [&](std::size_t v) { return v < extra ? 2 * v + 1 : v + extra; };
  std::vector<bool> within;
  for (std::size_t d = 1; d < power; d *= 2) {
    bool all = true;
    for (std::size_t v = 0; v < power; ++v) all = all && rank_of(v) / k == rank_of(v ^ d) / k;
    within.push_back(all);
  }
  return within;
}

TEST(OnNodes, StepsCountedWithinANodeAreSoInOpenMpisPairs) {
  for (std::size_t k = 1; k <= 16; ++k)
    for (std::size_t p = k + 1; p <= 160; ++p) {
      const std::vector<bool> actual = steps_within_by_pairs(p, k);
      const bool folds = (p & (p - 1)) != 0;
      const ExchangeTerms terms = allreduce_terms_on_nodes(AllreduceAlgorithm::recursive_doubling, p, k, 1);
      const std::size_t fold_within = folds && k % 2 == 0 ? 2 : 0;  // the fold's two messages
      const std::size_t counted = std::size_t(terms.shared_memory.alphas) - fold_within;
      ASSERT_LE(counted, actual.size()) << p << "/" << k;
      // The counted steps are the first ones and truly within; at powers of
      // two, they are all the steps that are.
      for (std::size_t i = 0; i < counted; ++i) EXPECT_TRUE(actual[i]) << p << "/" << k << " step " << i;
      if (!folds) {
        EXPECT_EQ(counted, std::size_t(std::count(actual.begin(), actual.end(), true))) << p << "/" << k;
      }
      EXPECT_DOUBLE_EQ(terms.shared_memory.alphas + terms.network.alphas,
                       allreduce_terms(AllreduceAlgorithm::recursive_doubling, p, 1).alphas) << p << "/" << k;
    }
}

TEST(Compressed, HalvesTheBytesOfTheAllreduce) {
  const std::size_t floats = 1 << 20;
  for (const std::size_t p : {2u, 4u, 8u, 64u}) {
    const CostTerms full = allreduce_terms(AllreduceAlgorithm::rabenseifner, p, floats * 4.0);
    const ExchangeTerms half = compressed_exchange(p, 1, floats);
    EXPECT_DOUBLE_EQ(half.network.beta_bytes, full.beta_bytes / 2) << p;
    EXPECT_EQ(half.network.gamma_bytes, 0);  // the sum is a conversion pass, counted in bytes streamed
    EXPECT_GE(half.network.alphas, 1);
  }
  EXPECT_EQ(compressed_exchange(1, 1, floats).network, CostTerms{});
  EXPECT_EQ(compressed_conversion_bytes(1, floats), 0);
  // Two 16-bit conversions of every value at least, 6 bytes each.
  EXPECT_GE(compressed_conversion_bytes(8, floats), 12.0 * floats);
}

TEST(Compressed, AlltoallvIsOpenMpisPairwiseOrLinearByRankCount) {
  const std::size_t floats = 1 << 20;
  // 8 ranks: basic linear, all 7 messages posted at once (one latency, 7
  // overheads), then a Bruck allgatherv of 256 kB chunks: 3 messages.
  ExchangeTerms terms = compressed_exchange(8, 1, floats);
  EXPECT_EQ(terms.network.alphas, 1 + 3);
  EXPECT_EQ(terms.shared_memory.alphas, 7);
  // 64 ranks: pairwise, 63 exchanges in turn, then a ring allgatherv: 63.
  terms = compressed_exchange(64, 1, floats);
  EXPECT_EQ(terms.network.alphas, 63 + 63);
  EXPECT_EQ(terms.shared_memory.alphas, 0);
  // On 2 nodes of 4 every step has a hop between them: the latencies are the
  // network's, the overheads stay; 4 ranks of a node send to the 4 others.
  terms = compressed_exchange(8, 4, floats);
  EXPECT_EQ(terms.network.alphas, 1 + 3);
  EXPECT_EQ(terms.shared_memory.alphas, 7);
  EXPECT_DOUBLE_EQ(terms.network.beta_bytes, 2 * 4 * 4 * (floats * 2.0 / 8));
  EXPECT_DOUBLE_EQ(terms.shared_memory.beta_bytes, 2 * 3 * (floats * 2.0 / 8));
  // On one node all of it is shared memory.
  terms = compressed_exchange(8, 8, floats);
  EXPECT_EQ(terms.network, CostTerms{});
  EXPECT_EQ(terms.shared_memory.alphas, 1 + 7 + 3);
}

TEST(Compute, StepGemmsAreTheForwardWeightAndInputGradients) {
  const Architecture net = medium();
  const std::vector<GemmShape> shapes = step_gemm_shapes(net, 128);
  const auto f = GemmPass::forward, dw = GemmPass::weight_gradient, dx = GemmPass::input_gradient;
  const std::vector<GemmShape> expected = {
      {128, 256, 784, f},  {128, 128, 256, f}, {128, 10, 128, f},  // forward
      {128, 10, 128, dw},  {128, 128, 10, dx},                     // layer 2: dW [128x10] over the batch, dx
      {256, 128, 128, dw}, {128, 256, 128, dx},                    // layer 1
      {784, 256, 128, dw},                                         // layer 0: dW only, nobody needs dL/dinput
  };
  EXPECT_EQ(shapes, expected);
  // With buckets the weight gradients come in row blocks, same flops.
  const BucketPlan plan(net, 2, 16384);
  const std::vector<GemmShape> blocked = step_gemm_shapes(net, 128, plan.chunk_rows());
  EXPECT_GT(blocked.size(), shapes.size());
  double flops = 0, blocked_flops = 0;
  for (const auto& s : shapes) flops += s.flops();
  for (const auto& s : blocked) blocked_flops += s.flops();
  EXPECT_DOUBLE_EQ(blocked_flops, flops);
}

TEST(Compute, OneRankStepIsItsComputeAndGrowsWithTheBatch) {
  double previous = 0;
  for (const std::size_t batch : {1u, 16u, 256u, 4096u}) {
    const StepPrediction one = predict_step({medium(), batch, 1}, {1, kLink}, rates());
    EXPECT_EQ(one.comm_seconds, 0);
    EXPECT_EQ(one.bytes_per_step, 0);
    EXPECT_DOUBLE_EQ(one.step_seconds, one.compute_seconds);
    EXPECT_GT(one.compute_seconds, previous);
    previous = one.compute_seconds;
  }
  // At a known rate the GEMMs alone bound the compute from below.
  double flops = 0;
  for (const auto& s : step_gemm_shapes(wide(), 256)) flops += s.flops();
  const StepPrediction wide_step = predict_step({wide(), 256, 1}, {1, kLink}, rates(100));
  EXPECT_GT(wide_step.compute_seconds, flops / 100e9);
  EXPECT_LT(wide_step.compute_seconds, 1.2 * flops / 100e9);  // the memory-bound passes are small beside them
}

TEST(Step, FusedExchangeAddsToCompute) {
  const Cluster cluster{1, kLink};
  const StepPrediction step = predict_step({wide(), 256, 8}, cluster, rates());
  const std::size_t values = wide().parameter_count() + Model<float>::kControlSlots;  // the vote slots ride along
  EXPECT_DOUBLE_EQ(step.bytes_per_step, 4.0 * double(values));
  EXPECT_DOUBLE_EQ(step.comm_seconds,
                   allreduce_terms(AllreduceAlgorithm::rabenseifner, 8, 4.0 * double(values)).seconds(kLink));
  EXPECT_DOUBLE_EQ(step.step_seconds, step.compute_seconds + step.comm_seconds);
  EXPECT_DOUBLE_EQ(step.exposed_comm_seconds, step.comm_seconds);
}

// The largest of p draws from n equally likely values: exact sums.
TEST(Stragglers, ExpectedLargestOfEquallyLikelyValues) {
  const std::vector<double> two{0.5, 1.5};
  EXPECT_DOUBLE_EQ(expected_largest(two, 1), 1.0);                  // one draw: the mean
  EXPECT_DOUBLE_EQ(expected_largest(two, 2), 0.5 * 0.25 + 1.5 * 0.75);  // both low with probability 1/4
  EXPECT_DOUBLE_EQ(expected_largest(two, 3), 0.5 / 8 + 1.5 * 7 / 8);
  // 1..4: P(max = k) = (k/4)^p - ((k-1)/4)^p
  const std::vector<double> four{1, 2, 3, 4};
  EXPECT_NEAR(expected_largest(four, 2), (1 * 1 + 2 * 3 + 3 * 5 + 4 * 7) / 16.0, 1e-12);
  double previous = 0;
  for (const std::size_t p : {1u, 2u, 4u, 16u, 128u, 1024u}) {
    const double e = expected_largest(four, p);
    if (p <= 16) {
      EXPECT_GT(e, previous) << p;
    }
    EXPECT_GE(e, previous) << p;  // (3/4)^128 is below a double's resolution of 4
    EXPECT_LE(e, 4.0) << p;
    previous = e;
  }
  EXPECT_NEAR(expected_largest(four, 1024), 4.0, 1e-9);  // the slowest almost surely among 1024
  const std::vector<double> same(10, 1.0);
  EXPECT_DOUBLE_EQ(expected_largest(same, 1024), 1.0);   // no spread, no wait
  EXPECT_EQ(expected_largest({}, 4), 0.0);
}

// A measured trainer step scales the modelled compute (the one timed with the
// most trainers at once that the rank count has), and on several ranks the
// step waits for the slowest: compute (expected_largest(spread, p) - 1).
TEST(Stragglers, MeasuredStepsScaleComputeAndAddTheWait) {
  HostRates measured = rates();
  measured.measured_steps = {{1, 1.25, 0.05, {1.0, 1.0}}, {2, 1.5, 0.04, {0.8, 1.2}}};
  EXPECT_EQ(measured.steps_for(1)->together, 1u);
  EXPECT_EQ(measured.steps_for(2)->together, 2u);
  EXPECT_EQ(measured.steps_for(64)->together, 2u);
  const Cluster cluster{1, kLink};
  const double modelled = predict_step({wide(), 256, 1}, cluster, rates()).compute_seconds;
  const StepPrediction one = predict_step({wide(), 256, 1}, cluster, measured);
  EXPECT_DOUBLE_EQ(one.compute_seconds, 1.25 * modelled);
  EXPECT_EQ(one.wait_seconds, 0);
  EXPECT_DOUBLE_EQ(one.step_seconds, one.compute_seconds);

  const StepPrediction plain = predict_step({wide(), 256, 4}, cluster, rates());
  const StepPrediction four = predict_step({wide(), 256, 4}, cluster, measured);
  EXPECT_EQ(plain.wait_seconds, 0) << "given rates: no spread measured";
  EXPECT_DOUBLE_EQ(four.compute_seconds, 1.5 * modelled);
  EXPECT_DOUBLE_EQ(four.comm_seconds, plain.comm_seconds);
  EXPECT_NEAR(four.wait_seconds, 0.04 * (0.8 / 16 + 1.2 * 15 / 16 - 1), 1e-15);
  // The same seconds at another batch: interruptions do not grow with the step.
  EXPECT_DOUBLE_EQ(predict_step({wide(), 1024, 4}, cluster, measured).wait_seconds, four.wait_seconds);
  EXPECT_DOUBLE_EQ(four.step_seconds, four.compute_seconds + four.wait_seconds + four.comm_seconds);
  EXPECT_DOUBLE_EQ(four.exposed_comm_seconds, four.wait_seconds + four.comm_seconds);

  // Overlapped, with a core for the exchange: the wait delays the end as well.
  StepSpec overlapped{wide(), 256, 4};
  overlapped.overlap = true;
  overlapped.bucket_floats = 1 << 18;
  const StepPrediction o_plain = predict_step(overlapped, cluster, rates());
  const StepPrediction o = predict_step(overlapped, cluster, measured);
  EXPECT_GT(o.wait_seconds, 0);
  EXPECT_GE(o.step_seconds, o.compute_seconds + o.wait_seconds);
  EXPECT_GT(o.step_seconds, 1.5 * o_plain.step_seconds - 1e-12);  // every compute point 1.5x later, plus the wait
}

// With measured steps the efficiency pays the stragglers: it falls with the
// ranks even on a link that costs nothing.
TEST(Stragglers, EfficiencyFallsWithTheSpreadOnAFreeLink) {
  HostRates measured = rates();
  const double step = predict_step({medium(), 64, 1}, {1, Link{}}, measured).compute_seconds;
  measured.measured_steps = {{1, 1.0, step, {0.5, 1.0, 1.5}}};
  const std::vector<std::size_t> ranks{1, 2, 8, 64, 1024};
  const auto rows = plan_rows({medium(), 64}, ranks, {1, Link{}}, measured);
  EXPECT_EQ(rows[0].efficiency, 1.0);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LT(rows[i].efficiency, rows[i - 1].efficiency) << ranks[i];
    EXPECT_GT(rows[i].efficiency, 1 / 1.5 - 1e-12) << ranks[i];  // never worse than the slowest step every time
  }
  // A larger batch amortizes the wait: 90 % is reached at some batch.
  ASSERT_TRUE(rows.back().min_batch_per_rank.has_value());
  EXPECT_GT(*rows.back().min_batch_per_rank, 4 * 64u);  // the step 4.5 x as long as the 0.5 x step64 wait
}

TEST(Step, Bf16SendsHalfTheBytes) {
  const Cluster cluster{1, kLink};
  StepSpec spec{wide(), 256, 8};
  const StepPrediction fp32 = predict_step(spec, cluster, rates());
  spec.precision = GradPrecision::bf16;
  const StepPrediction bf16 = predict_step(spec, cluster, rates());
  EXPECT_DOUBLE_EQ(bf16.bytes_per_step, fp32.bytes_per_step / 2);
  EXPECT_LT(bf16.comm_seconds, fp32.comm_seconds);  // on a slow link the bytes saved outweigh the conversions
}

TEST(Step, OverlapLiesBetweenTheLongerPartAndTheSum) {
  for (const Link link : {kLink, Link{2e-6, 8e-9, 0}, Link{50e-6, 1e-11, 0}}) {
    const Cluster cluster{1, link};
    StepSpec spec{wide(), 256, 16, GradPrecision::fp32, true, 262144, true};
    const StepPrediction overlapped = predict_step(spec, cluster, rates());
    EXPECT_GE(overlapped.step_seconds, std::max(overlapped.compute_seconds, overlapped.comm_seconds));
    EXPECT_LE(overlapped.step_seconds, overlapped.compute_seconds + overlapped.comm_seconds);
    EXPECT_LT(overlapped.exposed_comm_seconds, overlapped.comm_seconds);  // something was hidden
    // Without a core of its own the exchange thread hides nothing.
    spec.exchange_has_own_core = false;
    const StepPrediction shared = predict_step(spec, cluster, rates());
    EXPECT_DOUBLE_EQ(shared.step_seconds, shared.compute_seconds + shared.comm_seconds);
    EXPECT_DOUBLE_EQ(shared.comm_seconds, overlapped.comm_seconds);
  }
}

TEST(Step, OverlapRuleIsTheTrainers) {
  EXPECT_TRUE(overlap_applies(OverlapMode::on, false, false));
  EXPECT_FALSE(overlap_applies(OverlapMode::off, true, true));
  EXPECT_TRUE(overlap_applies(OverlapMode::automatic, true, true));
  EXPECT_FALSE(overlap_applies(OverlapMode::automatic, true, false));
  EXPECT_FALSE(overlap_applies(OverlapMode::automatic, false, true));
}

TEST(Plan, RowsAreConsistentAndOneRankIsTheReference) {
  const PlanSpec spec{wide(), 256};
  const std::vector<std::size_t> ranks = {1, 2, 4, 64, 1024};
  const std::vector<PlanRow> rows = plan_rows(spec, ranks, {8, Link{5e-6, 8.0 / 25e9, 0}}, rates());
  ASSERT_EQ(rows.size(), ranks.size());
  EXPECT_DOUBLE_EQ(rows[0].efficiency, 1);
  EXPECT_DOUBLE_EQ(rows[0].speedup, 1);
  EXPECT_EQ(rows[0].min_batch_per_rank, std::optional<std::size_t>{1});
  EXPECT_EQ(rows[0].exchange, "none");
  for (const auto& row : rows) {
    EXPECT_DOUBLE_EQ(row.efficiency, row.speedup / double(row.ranks));
    EXPECT_DOUBLE_EQ(row.samples_per_second, double(row.ranks) * 256 / row.step.step_seconds);
    EXPECT_EQ(row.nodes, (row.ranks + 7) / 8);
    EXPECT_LE(row.efficiency, 1 + 1e-12);
  }
  EXPECT_EQ(rows.back().nodes, 128u);
  EXPECT_EQ(rows.back().exchange, "rabenseifner");
  // Where efficiency falls short, a larger batch per rank restores it.
  for (const auto& row : rows) {
    if (row.efficiency >= kTargetEfficiency || !row.min_batch_per_rank) continue;
    EXPECT_GT(*row.min_batch_per_rank, 256u);
    PlanSpec bigger = spec;
    bigger.batch_per_rank = *row.min_batch_per_rank;
    const std::size_t p[] = {row.ranks};
    EXPECT_GE(plan_rows(bigger, p, {8, Link{5e-6, 8.0 / 25e9, 0}}, rates()).front().efficiency, kTargetEfficiency);
    bigger.batch_per_rank = *row.min_batch_per_rank - 1;
    EXPECT_LT(plan_rows(bigger, p, {8, Link{5e-6, 8.0 / 25e9, 0}}, rates()).front().efficiency, kTargetEfficiency);
  }
}

TEST(Plan, ALinkTooSlowForAnyBatchSaysSo) {
  // 1000 s per message: no batch up to the cap pays for it.
  const std::size_t ranks[] = {2};
  const auto rows = plan_rows({medium(), 32}, ranks, {1, Link{1000, 0, 0}}, rates());
  EXPECT_FALSE(rows[0].min_batch_per_rank.has_value());
}

TEST(FitLink, RecoversTheLinkTheSamplesCameFrom) {
  for (const auto& [p, k] : {std::pair{2u, 1u}, std::pair{4u, 1u}, std::pair{8u, 2u}, std::pair{2u, 2u}, std::pair{16u, 4u},
                             std::pair{12u, 4u}}) {
    const Cluster cluster{k, kLink, kSharedMemoryLink};
    std::vector<TimedSample> samples;
    for (double bytes = 4; bytes <= 64e6; bytes *= 2)
      samples.push_back({bytes, allreduce_exchange(p, k, bytes).seconds(cluster)});
    const Link fitted = fit_link(p, k, samples, kSharedMemoryLink);
    const Link expected = node_count(p, k) > 1 ? kLink : kSharedMemoryLink;
    EXPECT_NEAR(fitted.alpha, expected.alpha, 1e-6 * expected.alpha) << p << "/" << k;
    EXPECT_NEAR(fitted.beta, expected.beta, 1e-6 * expected.beta) << p << "/" << k;
    EXPECT_NEAR(fitted.gamma, expected.gamma, 1e-6 * expected.gamma) << p << "/" << k;
  }
}

TEST(FitLink, StaysNonNegative) {
  // Times that fall with size would want a negative beta: it stops at 0.
  const std::vector<TimedSample> samples = {{1e3, 2e-3}, {1e5, 1.5e-3}, {1e7, 1e-3}};
  const Link fitted = fit_link(2, 1, samples);
  EXPECT_GE(fitted.alpha, 0);
  EXPECT_GE(fitted.beta, 0);
  EXPECT_GE(fitted.gamma, 0);
  EXPECT_GT(fitted.alpha, 0);
}

TEST(FitLink, NeedsATimedSample) {
  EXPECT_THROW(fit_link(2, 1, std::vector<TimedSample>{}), std::invalid_argument);
  EXPECT_THROW(fit_link(2, 1, std::vector<TimedSample>{{100, 0}}), std::invalid_argument);
}

}  // namespace
}  // namespace sinapsis

namespace sinapsis {
namespace {

// Sums measured on 2 ranks: the time of a size among them is the measured
// one, between two of them the log-log line through both; other rank
// counts, other ranks per node, sizes outside and 16-bit wires use the link.
TEST(MeasuredSums, ReplaceTheLinkWhereTheyApplyAndOnlyThere) {
  Cluster cluster(1, Link{30e-6, 1e-9, 0});
  cluster.measured_ranks = 2;
  cluster.measured_ranks_per_node = 1;
  cluster.measured = {{1024, 40e-6}, {4096, 80e-6}, {4194304, 1e-3}, {8388608, 8e-3}};
  EXPECT_DOUBLE_EQ(*measured_sum_seconds(cluster, 2, 4096), 80e-6);
  // 2048 bytes: halfway in log(bytes) between 1024 and 4096, so the
  // geometric mean of their times.
  EXPECT_NEAR(*measured_sum_seconds(cluster, 2, 2048), std::sqrt(40e-6 * 80e-6), 1e-12);
  // 6 MiB between 4 and 8 MiB: 1 ms * 8^(log(1.5)/log(2)).
  EXPECT_NEAR(*measured_sum_seconds(cluster, 2, 6291456), 1e-3 * std::pow(8.0, std::log(1.5) / std::log(2.0)), 1e-12);
  EXPECT_FALSE(measured_sum_seconds(cluster, 4, 4096)) << "other ranks";
  EXPECT_FALSE(measured_sum_seconds(cluster, 2, 512)) << "below the sizes measured";
  EXPECT_FALSE(measured_sum_seconds(cluster, 2, 16777216)) << "above them";
  Cluster other_layout = cluster;
  other_layout.ranks_per_node = 2;
  EXPECT_FALSE(measured_sum_seconds(other_layout, 2, 4096)) << "other ranks per node";

  const HostRates rates{gemm_at_gflops(50), 10e9, {}};
  EXPECT_DOUBLE_EQ(exchange_seconds(2, 1024, GradPrecision::fp32, cluster, rates), 80e-6) << "4096 bytes of floats";
  const Cluster line_only(1, cluster.network);
  EXPECT_DOUBLE_EQ(exchange_seconds(4, 1024, GradPrecision::fp32, cluster, rates),
                   exchange_seconds(4, 1024, GradPrecision::fp32, line_only, rates));
  EXPECT_DOUBLE_EQ(exchange_seconds(2, 1024, GradPrecision::bf16, cluster, rates),
                   exchange_seconds(2, 1024, GradPrecision::bf16, line_only, rates))
      << "the measurements are of fp32 sums";
}

}  // namespace
}  // namespace sinapsis
