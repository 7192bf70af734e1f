// 16-bit formats (core/half.hpp) against a reference built from their
// definitions, not from the conversion code: every bit pattern decoded as
// (significand) * 2^(exponent) with std::ldexp, and a float rounded by
// finding its two neighbours among those values and taking the nearer (the
// one with the even pattern on a tie; the pattern past the largest finite
// one is Inf and stands for the next power of two, so overflow is the same
// rule). Checked: every pattern, every midpoint between neighbours and the
// floats just beside it, random floats, hand-picked cases, the documented
// error bound, the span versions, and the option parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <ostream>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/half.hpp"

namespace sinapsis {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Format {
  const char* name;
  GradPrecision precision;
  int mantissa_bits;       // stored
  int exponent_bias;
  std::uint16_t inf;       // the pattern of +Inf; also one past the largest finite
  long double unit_roundoff;   // u: relative error of one rounding, normal range
  long double subnormal_error; // eta: absolute error of one rounding below it
  long double smallest_normal;
  std::uint16_t (*narrow)(float);
  float (*widen)(std::uint16_t);
};

const Format kBf16{"bf16", GradPrecision::bf16, 7, 127, 0x7f80, std::ldexp(1.0L, -8), std::ldexp(1.0L, -134),
                   std::ldexp(1.0L, -126), float_to_bf16, bf16_to_float};
const Format kFp16{"fp16", GradPrecision::fp16, 10, 15, 0x7c00, std::ldexp(1.0L, -11), std::ldexp(1.0L, -25),
                   std::ldexp(1.0L, -14), float_to_fp16, fp16_to_float};

// gtest prints a failing parameter with this, instead of its bytes.
void PrintTo(const Format& f, std::ostream* out) { *out << f.name; }

// The value of non-negative pattern `bits` (< inf) by the format's
// definition; `inf` itself stands for the next power of two.
long double decode(const Format& f, std::uint32_t bits) {
  const std::uint32_t exponent = bits >> f.mantissa_bits;
  const std::uint32_t mantissa = bits & ((1u << f.mantissa_bits) - 1);
  const int subnormal_scale = 1 - f.exponent_bias - f.mantissa_bits;
  if (exponent == 0) return std::ldexp(static_cast<long double>(mantissa), subnormal_scale);
  return std::ldexp(static_cast<long double>((1u << f.mantissa_bits) + mantissa), int(exponent) + subnormal_scale - 1);
}

// Every non-negative finite value, index = pattern, then Inf's stand-in.
std::vector<long double> value_table(const Format& f) {
  std::vector<long double> values;
  for (std::uint32_t bits = 0; bits <= f.inf; ++bits) values.push_back(decode(f, bits));
  return values;
}

// The reference rounding of a non-NaN float.
std::uint16_t reference_round(const Format& f, const std::vector<long double>& values, float x) {
  const auto sign = std::uint16_t(std::signbit(x) ? 0x8000u : 0u);
  const long double a = std::fabs(static_cast<long double>(x));
  if (a >= values.back()) return std::uint16_t(sign | f.inf);  // Inf, or past Inf's stand-in
  const auto above = std::upper_bound(values.begin(), values.end(), a);
  const auto hi = std::size_t(above - values.begin());
  const std::size_t lo = hi - 1;
  std::size_t pick = lo;
  if (values[lo] != a) {
    const long double below_gap = a - values[lo], above_gap = values[hi] - a;
    pick = below_gap < above_gap ? lo : above_gap < below_gap ? hi : (lo % 2 == 0 ? lo : hi);
  }
  return std::uint16_t(sign | pick);
}

std::string hex(std::uint32_t bits) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%04x", bits);
  return text;
}

class Half : public ::testing::TestWithParam<Format> {};

TEST_P(Half, EveryPatternDecodesAsTheFormatDefines) {
  const Format& f = GetParam();
  for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto pattern = std::uint16_t(bits);
    const float x = f.widen(pattern);
    const std::uint32_t magnitude = bits & 0x7fffu;
    const bool negative = (bits & 0x8000u) != 0;
    ASSERT_EQ(std::signbit(x), negative) << hex(bits);
    if (magnitude > f.inf) {
      ASSERT_TRUE(std::isnan(x)) << hex(bits);
    } else if (magnitude == f.inf) {
      ASSERT_TRUE(std::isinf(x)) << hex(bits);
    } else {
      ASSERT_EQ(static_cast<long double>(std::fabs(x)), decode(f, magnitude)) << hex(bits);
    }
  }
}

TEST_P(Half, EveryPatternRoundTripsThroughFloat) {
  const Format& f = GetParam();
  for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto pattern = std::uint16_t(bits);
    const std::uint16_t back = f.narrow(f.widen(pattern));
    if ((bits & 0x7fffu) > f.inf) {  // NaN stays NaN, of the same sign, and comes back quiet
      const std::uint32_t quiet_bit = 1u << (f.mantissa_bits - 1);
      ASSERT_GT(back & 0x7fffu, f.inf) << hex(bits) << " -> " << hex(back);
      ASSERT_EQ(back & 0x8000u, bits & 0x8000u) << hex(bits);
      ASSERT_NE(back & quiet_bit, 0u) << hex(bits) << " -> " << hex(back);
    } else {
      ASSERT_EQ(back, pattern) << hex(bits) << " -> " << hex(back);
    }
  }
}

// Between every two neighbours (including the largest finite value and
// Inf): the midpoint is a tie, the floats just beside it are not.
TEST_P(Half, MidpointsAndTheFloatsBesideThemRoundAsTheReference) {
  const Format& f = GetParam();
  const auto values = value_table(f);
  for (std::uint32_t lo = 0; lo < f.inf; ++lo) {
    const long double mid = (values[lo] + values[lo + 1]) / 2;
    const auto midpoint = static_cast<float>(mid);
    ASSERT_EQ(static_cast<long double>(midpoint), mid) << "midpoint after " << hex(lo) << " is no float";
    const std::uint16_t even = std::uint16_t(lo % 2 == 0 ? lo : lo + 1);
    for (const float sign : {1.0f, -1.0f}) {
      const std::uint16_t s = sign < 0 ? 0x8000u : 0u;
      const float below = std::nextafter(midpoint, 0.0f), above = std::nextafter(midpoint, kInf);
      ASSERT_EQ(f.narrow(sign * midpoint), s | even) << "tie after " << hex(lo);
      ASSERT_EQ(f.narrow(sign * below), s | lo) << "just below the midpoint after " << hex(lo);
      ASSERT_EQ(f.narrow(sign * above), s | (lo + 1)) << "just above the midpoint after " << hex(lo);
      ASSERT_EQ(reference_round(f, values, sign * midpoint), s | even);
    }
  }
}

TEST_P(Half, RandomFloatsRoundAsTheReferenceWithinTheErrorBound) {
  const Format& f = GetParam();
  const auto values = value_table(f);
  std::mt19937 random(12);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  // Uniform bit patterns reach every exponent (most out of fp16's range);
  // log-uniform magnitudes from below the smallest subnormal to past the
  // largest finite value of fp16 fill its range.
  std::uniform_real_distribution<double> exponent(-27, 17);
  std::vector<float> inputs;
  for (int i = 0; i < 1'000'000; ++i) inputs.push_back(std::bit_cast<float>(any_bits(random)));
  for (int i = 0; i < 1'000'000; ++i)
    inputs.push_back(float((i % 2 ? -1 : 1) * std::exp2(exponent(random))));
  std::size_t finite_checked = 0;
  for (const float x : inputs) {
    const std::uint16_t r = f.narrow(x);
    if (std::isnan(x)) {
      ASSERT_GT(r & 0x7fffu, f.inf) << x;
      continue;
    }
    ASSERT_EQ(r, reference_round(f, values, x)) << "x = " << x << " (bits " << std::bit_cast<std::uint32_t>(x) << ")";
    if ((r & 0x7fffu) == f.inf) continue;  // overflow (or Inf): no error bound
    const long double exact = x, rounded = f.widen(r);
    const long double error = std::fabs(rounded - exact);
    ASSERT_LE(error, f.unit_roundoff * std::fabs(exact) + f.subnormal_error) << x;
    if (std::fabs(exact) >= f.smallest_normal) {
      ASSERT_LE(error, f.unit_roundoff * std::fabs(exact)) << x;
    }
    ++finite_checked;
  }
  EXPECT_GT(finite_checked, inputs.size() / 3);
}

TEST_P(Half, SpanConversionsEqualTheScalarOnes) {
  const Format& f = GetParam();
  std::mt19937 random(3);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  std::normal_distribution<float> gradient(0, 0.01f);
  // Sizes around the vector widths, so that the loops' remainders run too.
  for (const std::size_t n : {0u, 1u, 3u, 7u, 8u, 9u, 17u, 1001u}) {
    std::vector<float> in(n);
    for (std::size_t i = 0; i < n; ++i) in[i] = i % 3 == 0 ? std::bit_cast<float>(any_bits(random)) : gradient(random);
    std::vector<std::uint16_t> narrow(n);
    round_to_16_bits(in, narrow, f.precision);
    std::vector<float> wide(n);
    widen_from_16_bits(narrow, wide, f.precision);
    std::vector<float> sums(n, 0.25f);
    add_from_16_bits(narrow, sums, f.precision);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(narrow[i], f.narrow(in[i])) << "n " << n << ", element " << i;
      ASSERT_EQ(std::bit_cast<std::uint32_t>(wide[i]), std::bit_cast<std::uint32_t>(f.widen(narrow[i])))
          << "n " << n << ", element " << i;
      ASSERT_EQ(std::bit_cast<std::uint32_t>(sums[i]), std::bit_cast<std::uint32_t>(0.25f + f.widen(narrow[i])))
          << "n " << n << ", element " << i;
    }
  }
  std::vector<float> three(3);
  std::vector<std::uint16_t> two(2);
  EXPECT_THROW(round_to_16_bits(three, two, f.precision), std::invalid_argument);
  EXPECT_THROW(widen_from_16_bits(two, three, f.precision), std::invalid_argument);
  EXPECT_THROW(add_from_16_bits(two, three, f.precision), std::invalid_argument);
  EXPECT_THROW(round_to_16_bits(std::span(three).first(2), two, GradPrecision::fp32), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Formats, Half, ::testing::Values(kBf16, kFp16),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(Fp16, HandPickedValues) {
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7bffu);                      // largest finite
  EXPECT_EQ(float_to_fp16(std::nextafter(65520.0f, 0.0f)), 0x7bffu);  // just under the tie
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7c00u);                      // the tie rounds to even: Inf
  EXPECT_EQ(float_to_fp16(-65520.0f), 0xfc00u);
  EXPECT_EQ(float_to_fp16(1e10f), 0x7c00u);
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::max()), 0x7c00u);
  EXPECT_EQ(float_to_fp16(kInf), 0x7c00u);
  EXPECT_EQ(float_to_fp16(-kInf), 0xfc00u);
  EXPECT_EQ(float_to_fp16(0.0f), 0x0000u);
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000u);
  EXPECT_EQ(float_to_fp16(0x1p-24f), 0x0001u);        // smallest subnormal
  EXPECT_EQ(float_to_fp16(0x1p-25f), 0x0000u);        // half of it: a tie, to even (zero)
  EXPECT_EQ(float_to_fp16(0x1.8p-24f), 0x0002u);      // 1.5 x smallest: a tie, to even (2)
  EXPECT_EQ(float_to_fp16(0x1.000002p-25f), 0x0001u);  // just past half: up
  EXPECT_EQ(float_to_fp16(-0x1p-24f), 0x8001u);
  EXPECT_EQ(float_to_fp16(0x1.ff8p-15f), 0x03ffu);    // largest subnormal
  EXPECT_EQ(float_to_fp16(0x1.ffcp-15f), 0x0400u);    // rounds up into the smallest normal
  EXPECT_EQ(float_to_fp16(std::numeric_limits<float>::denorm_min()), 0x0000u);
  EXPECT_EQ(float_to_fp16(1.0f), 0x3c00u);
  EXPECT_EQ(float_to_fp16(1.0f + 0x1p-11f), 0x3c00u);  // tie, to even
  EXPECT_EQ(float_to_fp16(1.0f + 0x3p-11f), 0x3c02u);  // tie, to even (up)
  EXPECT_EQ(fp16_to_float(0x7bffu), 65504.0f);
  EXPECT_EQ(fp16_to_float(0x0001u), 0x1p-24f);
  EXPECT_EQ(fp16_to_float(0xfc00u), -kInf);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(nan))));
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(-nan))));
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(std::numeric_limits<float>::signaling_NaN()))));
  // A NaN whose payload lies below the 10 bits fp16 keeps still stays NaN.
  EXPECT_EQ(float_to_fp16(std::bit_cast<float>(0x7f800001u)), 0x7e00u);
}

TEST(Bf16, HandPickedValues) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80u);
  EXPECT_EQ(float_to_bf16(1.0f + 0x1p-8f), 0x3f80u);  // tie, to even (down)
  EXPECT_EQ(float_to_bf16(1.0f + 0x3p-8f), 0x3f82u);  // tie, to even (up)
  EXPECT_EQ(float_to_bf16(std::nextafter(1.0f + 0x1p-8f, 2.0f)), 0x3f81u);
  EXPECT_EQ(float_to_bf16(-0.0f), 0x8000u);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7f80u);  // past bf16's largest: Inf
  EXPECT_EQ(float_to_bf16(0x1.fep127f), 0x7f7fu);                        // bf16's largest
  EXPECT_EQ(float_to_bf16(0x1.ffp127f), 0x7f80u);  // half past it: a tie, to even (Inf)
  EXPECT_EQ(float_to_bf16(-kInf), 0xff80u);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::denorm_min()), 0x0000u);  // 2^-149, far below 2^-134
  EXPECT_EQ(float_to_bf16(0x1p-133f), 0x0001u);  // smallest bf16 subnormal
  // A NaN whose payload lies in the 16 bits rounded away stays NaN (no
  // carry into Inf or the sign).
  EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x7fffffffu)), 0x7fffu);
  EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x7f800001u)), 0x7fc0u);
  EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0xffffffffu)), 0xffffu);
  EXPECT_EQ(bf16_to_float(0x3f80u), 1.0f);
}

TEST(GradPrecisionOption, ParsesItsNamesAndNamesTheOptionAndValueWhenWrong) {
  for (const auto p : {GradPrecision::fp32, GradPrecision::bf16, GradPrecision::fp16})
    EXPECT_EQ(parse_grad_precision(grad_precision_name(p), "--grad-precision"), p);
  try {
    parse_grad_precision("fp8", "--grad-precision");
    FAIL() << "fp8 was accepted";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("--grad-precision"), std::string::npos) << message;
    EXPECT_NE(message.find("'fp8'"), std::string::npos) << message;
    EXPECT_NE(message.find("bf16"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace sinapsis
