// Communicator::sum_compressed under mpirun -n 2 and -n 3: for bf16 and
// fp16 and sizes around the rank count (0, 1, p-1, p, p+1, 1000003, and a
// small one after the large one, when the scratch buffers are larger than
// needed), the result is the same bytes on every rank, equals a reference
// computed here from every rank's inputs (each rounded to 16 bits, summed
// in fp32 in rank order, the sum rounded once), and is within the bound
// documented at the declaration of the exact sum of the unrounded inputs.
// fp16 overflow is Inf on every rank; fp32 is the plain allreduce; one rank
// rounds nothing; more than INT_MAX values are refused; once the scratch
// buffers have grown, calls allocate nothing.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/half.hpp"
#include "dist/communicator.hpp"
#include "tests/mpi_environment.hpp"

// Allocations by this thread through the global operator new (MPI's own
// buffers come from malloc; the stall watchdog's thread is not counted).
namespace {
thread_local std::size_t t_allocations = 0;
}
// Not inlined: GCC would otherwise pair the inlined std::free with the new
// expressions of this file and warn (-Wmismatched-new-delete).
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++t_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sinapsis {
namespace {

Communicator& world() { return *test::world; }

// Rank `rank`'s inputs for a case: gradient-like values whose magnitudes
// span 1e-7 .. 1e2 (fp16 subnormals to well inside its range), the same on
// every rank that asks, so that every rank can compute the reference.
std::vector<float> inputs_of(int rank, std::size_t count) {
  std::mt19937 random(std::uint32_t(1000 * rank + count));
  std::normal_distribution<double> value(0, 1);
  std::uniform_real_distribution<double> decade(-7, 2);
  std::vector<float> x(count);
  for (float& v : x) v = float(value(random) * std::pow(10.0, decade(random)));
  return x;
}

// Every rank holds the same bytes.
void expect_same_bytes_on_every_rank(std::span<const float> values, const std::string& what) {
  const std::string mine(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  const auto all = world().allgather(mine);
  for (std::size_t r = 1; r < all.size(); ++r) EXPECT_TRUE(all[r] == all[0]) << what << ": rank " << r << " differs from rank 0";
}

std::uint16_t narrow(GradPrecision p, float x) { return p == GradPrecision::bf16 ? float_to_bf16(x) : float_to_fp16(x); }
float widen(GradPrecision p, std::uint16_t x) { return p == GradPrecision::bf16 ? bf16_to_float(x) : fp16_to_float(x); }

struct Bound {
  long double unit_roundoff, subnormal_error;
};
Bound bound_of(GradPrecision p) {
  return p == GradPrecision::bf16 ? Bound{std::ldexp(1.0L, -8), std::ldexp(1.0L, -134)}
                                  : Bound{std::ldexp(1.0L, -11), std::ldexp(1.0L, -25)};
}

class SumCompressed : public ::testing::TestWithParam<GradPrecision> {};

TEST_P(SumCompressed, IsTheSameOnEveryRankEqualsTheReferenceAndIsWithinTheBound) {
  const GradPrecision precision = GetParam();
  const int ranks = world().size();
  const auto p = std::size_t(ranks);
  const Bound b = bound_of(precision);
  const long double gamma = (p - 1) * std::ldexp(1.0L, -24) / (1 - (p - 1) * std::ldexp(1.0L, -24));
  const long double relative = 2 * b.unit_roundoff + b.unit_roundoff * b.unit_roundoff +
                               (1 + b.unit_roundoff) * (1 + b.unit_roundoff) * gamma;
  const long double absolute = (p * (1 + b.unit_roundoff) * (1 + gamma) + 1) * b.subnormal_error;
  for (const std::size_t count : {std::size_t{0}, std::size_t{1}, p - 1, p, p + 1, std::size_t{1000003}, 2 * p + 3}) {
    const std::string what = std::string(grad_precision_name(precision)) + ", " + std::to_string(count) + " values";
    std::vector<std::vector<float>> inputs;
    for (int r = 0; r < ranks; ++r) inputs.push_back(inputs_of(r, count));
    std::vector<float> values = inputs[std::size_t(world().rank())];
    world().sum_compressed(values, precision);
    ASSERT_EQ(values.size(), count);
    expect_same_bytes_on_every_rank(values, what);
    std::size_t mismatches = 0, out_of_bound = 0;
    for (std::size_t i = 0; i < count; ++i) {
      float sum = widen(precision, narrow(precision, inputs[0][i]));
      long double exact = inputs[0][i], magnitudes = std::fabs(inputs[0][i]);
      for (std::size_t r = 1; r < p; ++r) {
        sum += widen(precision, narrow(precision, inputs[r][i]));
        exact += inputs[r][i];
        magnitudes += std::fabs(inputs[r][i]);
      }
      const float reference = widen(precision, narrow(precision, sum));
      if (std::memcmp(&reference, &values[i], sizeof(float)) != 0 && ++mismatches <= 5)
        ADD_FAILURE() << what << ", element " << i << ": " << values[i] << ", reference " << reference;
      const long double error = std::fabs(static_cast<long double>(values[i]) - exact);
      if (!(error <= relative * magnitudes + absolute) && ++out_of_bound <= 5)
        ADD_FAILURE() << what << ", element " << i << ": error " << double(error) << " past the bound "
                      << double(relative * magnitudes + absolute);
    }
    EXPECT_EQ(mismatches, 0u) << what;
    EXPECT_EQ(out_of_bound, 0u) << what;
  }
}

TEST_P(SumCompressed, NaNOnOneRankIsNaNOnEveryRank) {
  const GradPrecision precision = GetParam();
  std::vector<float> values(5, 1.0f);
  if (world().rank() == world().size() - 1) values[2] = std::numeric_limits<float>::quiet_NaN();
  world().sum_compressed(values, precision);
  expect_same_bytes_on_every_rank(values, "NaN");
  EXPECT_TRUE(std::isnan(values[2]));
  for (const std::size_t i : {0u, 1u, 3u, 4u}) EXPECT_EQ(values[i], float(world().size())) << i;
}

INSTANTIATE_TEST_SUITE_P(Formats, SumCompressed, ::testing::Values(GradPrecision::bf16, GradPrecision::fp16),
                         [](const auto& test) { return std::string(grad_precision_name(test.param)); });

TEST(SumCompressedFp16, AValuePast65504OnOneRankOrASumPastItIsInfOnEveryRank) {
  const int ranks = world().size();
  std::vector<float> values(7, 0.5f);
  if (world().rank() == ranks - 1) {
    values[1] = 70000.0f;   // past 65504 on one rank
    values[2] = -65520.0f;  // the tie that rounds past -65504
  }
  values[3] = 40000.0f;   // finite on every rank, the sum is not
  values[4] = -40000.0f;
  values[5] = 21000.0f;  // 20992 in fp16; at most 62976 in all (3 ranks): finite
  world().sum_compressed(values, GradPrecision::fp16);
  expect_same_bytes_on_every_rank(values, "fp16 overflow");
  EXPECT_EQ(values[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[2], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[3], std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[4], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isfinite(values[5])) << values[5];
  EXPECT_EQ(values[0], 0.5f * float(ranks));
  EXPECT_EQ(values[6], 0.5f * float(ranks));
}

TEST(SumCompressedFp32, IsThePlainAllreduce) {
  const auto mine = inputs_of(world().rank(), 1001);
  std::vector<float> compressed = mine, plain = mine;
  world().sum_compressed(compressed, GradPrecision::fp32);
  world().allreduce(std::span<float>(plain), ReduceOp::sum);
  EXPECT_EQ(std::memcmp(compressed.data(), plain.data(), plain.size() * sizeof(float)), 0);
}

TEST(SumCompressedScratch, OnceGrownCallsAllocateNothing) {
  std::vector<float> large(300001, 0.25f), small(7, 0.25f);
  std::vector<float> empty;
  const std::size_t at_start = t_allocations;
  world().sum_compressed(large, GradPrecision::bf16);  // grows the scratch
  EXPECT_GT(t_allocations, at_start) << "the counter must see the scratch grow";
  const std::size_t before = t_allocations;
  for (const auto precision : {GradPrecision::bf16, GradPrecision::fp16}) {
    world().sum_compressed(large, precision);
    world().sum_compressed(small, precision);
    world().sum_compressed(empty, precision);
  }
  EXPECT_EQ(t_allocations - before, 0u);
  EXPECT_TRUE(std::isfinite(large[0]));
}

// One rank has no wire: nothing is rounded (SingleProcess, and an MPI
// communicator of one rank).
TEST(SumCompressedOneRank, LeavesTheValuesAsTheyAre) {
  const auto mine = inputs_of(world().rank(), 101);
  SingleProcess single;
  const auto alone = world().split(world().rank());
  ASSERT_EQ(alone->size(), 1);
  for (Communicator* comm : {static_cast<Communicator*>(&single), alone.get()})
    for (const auto precision : {GradPrecision::bf16, GradPrecision::fp16}) {
      std::vector<float> values = mine;
      comm->sum_compressed(values, precision);
      EXPECT_EQ(values, mine) << grad_precision_name(precision);
    }
}

TEST(SumCompressedLimits, MoreThanIntMaxValuesAreRefusedOnEveryRank) {
  // The count is checked before any value is read: the span's length is
  // never used to touch memory.
  float one = 1;
  const std::span<float> huge(&one, std::size_t(INT_MAX) + 1);
  for (const auto precision : {GradPrecision::bf16, GradPrecision::fp16, GradPrecision::fp32}) {
    try {
      world().sum_compressed(huge, precision);
      ADD_FAILURE() << grad_precision_name(precision) << ": accepted " << huge.size() << " values";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("2147483648 values"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(one, 1.0f);
}

}  // namespace
}  // namespace sinapsis
