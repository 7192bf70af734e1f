// 16-bit floating point for the gradient exchange (--grad-precision): the
// formats, and conversions to and from float that round to nearest, ties to
// even, as IEEE 754 does. Values travel as std::uint16_t bit patterns; no
// arithmetic is ever done in 16 bits.
//
//   bf16  bfloat16: float's sign and 8-bit exponent, 7 stored mantissa bits.
//         Same range as float; 8 significant bits.
//   fp16  IEEE binary16: 5-bit exponent, 10 stored mantissa bits. Largest
//         finite 65504, smallest normal 2^-14, subnormals down to 2^-24;
//         11 significant bits.
//
// Error of one rounding (the unit roundoff u), for a finite float x whose
// rounded value r is finite:
//   bf16  |r - x| <= 2^-8  |x|  for |x| >= 2^-126 (all normal floats);
//         |r - x| <= 2^-134     below (bf16 subnormals, spacing 2^-133).
//   fp16  |r - x| <= 2^-11 |x|  for 2^-14 <= |x| < 65520;
//         |r - x| <= 2^-25      below 2^-14 (fp16 subnormals, spacing 2^-24).
// In every range: |r - x| <= u |x| + eta, eta = 2^-134 (bf16), 2^-25 (fp16).
// fp16 overflows: |x| >= 65520 (65504 plus half its spacing, a tie that
// rounds to the even neighbour, which is past 65504) becomes +-Inf, as do
// +-Inf. NaN stays NaN: float -> 16 bits gives a quiet NaN of the same sign
// (whatever its payload), 16 bits -> float keeps the payload (so the NaNs
// that float -> 16 bits produces come back quiet). -0 stays -0.
//
// The conversions are written without branches (both candidates computed,
// then selected) so that loops over spans vectorize. They assume what the
// rest of sinapsis assumes of the floating-point environment: round to
// nearest, subnormals not flushed (no -ffast-math, no FTZ/DAZ).
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace sinapsis {

// What the gradient exchange carries between ranks: float as it is, or
// rounded to one of the 16-bit formats above.
enum class GradPrecision { fp32, bf16, fp16 };

// "bf16" -> GradPrecision::bf16; throws UsageError naming `option` and the value.
inline GradPrecision parse_grad_precision(std::string_view text, std::string_view option) {
  if (text == "fp32") return GradPrecision::fp32;
  if (text == "bf16") return GradPrecision::bf16;
  if (text == "fp16") return GradPrecision::fp16;
  throw UsageError(std::string(option) + ": unknown precision '" + std::string(text) +
                   "' (expected fp32, bf16 or fp16)");
}

inline std::string_view grad_precision_name(GradPrecision precision) {
  switch (precision) {
    case GradPrecision::fp32: return "fp32";
    case GradPrecision::bf16: return "bf16";
    case GradPrecision::fp16: return "fp16";
  }
  return "?";
}

namespace half_detail {
// Branch-free selection. GCC 12 keeps a chain of ternaries here as branches
// and then does not vectorize the loop; these masks become vector selects.
inline std::uint32_t mask(bool condition) { return 0u - std::uint32_t(condition); }  // all ones or zero
inline std::uint32_t pick(std::uint32_t selector, std::uint32_t if_set, std::uint32_t if_clear) {
  return (if_set & selector) | (if_clear & ~selector);
}
}  // namespace half_detail

// bf16 is the top half of a float: round the low 16 bits away, to nearest
// even (adding 0x7fff plus the kept part's lowest bit carries exactly when
// the dropped part is above half, or half with an odd kept part). A carry
// out of the mantissa raises the exponent, up to Inf past bf16's largest
// value. NaN would carry into the sign: it is kept apart, made quiet.
inline std::uint16_t float_to_bf16(float value) {
  using half_detail::mask, half_detail::pick;
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const std::uint32_t quiet_nan = (bits >> 16) | 0x0040u;
  return std::uint16_t(pick(mask((bits & 0x7fffffffu) > 0x7f800000u), quiet_nan, rounded));
}

// Exact: every bf16 value is a float.
inline float bf16_to_float(std::uint16_t value) { return std::bit_cast<float>(std::uint32_t(value) << 16); }

inline std::uint16_t float_to_fp16(float value) {
  using half_detail::mask, half_detail::pick;
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t magnitude = bits & 0x7fffffffu;
  // 2^-14 <= |x| < 65520: move the exponent from float's bias (127) to
  // fp16's (15), then round the 13 dropped mantissa bits to nearest even as
  // in float_to_bf16. A carry may raise the exponent (up to 65520 -> 65536,
  // whose pattern is Inf's, 0x7c00: a correct overflow).
  const std::uint32_t odd = (magnitude >> 13) & 1u;
  const std::uint32_t normal = (magnitude - (112u << 23) + 0x0fffu + odd) >> 13;
  // |x| < 2^-14: in 0.5 + |x| the last mantissa bit of the float is worth
  // 2^-24, the spacing of fp16's subnormals, so the addition itself rounds
  // |x| to a multiple of 2^-24 (to nearest even); what it added above 0.5 is
  // the fp16 pattern (1024 = 0x0400 when it rounds up to 2^-14).
  const std::uint32_t subnormal =
      std::bit_cast<std::uint32_t>(std::bit_cast<float>(magnitude) + 0.5f) - 0x3f000000u;
  // NaN: quiet, with the top of the payload.
  const std::uint32_t quiet_nan = 0x7e00u | ((magnitude >> 13) & 0x03ffu);
  std::uint32_t result = pick(mask(magnitude >= 0x38800000u), normal, subnormal);  // 2^-14
  result = pick(mask(magnitude >= 0x477ff000u), 0x7c00u, result);                  // 65520: Inf
  result = pick(mask(magnitude > 0x7f800000u), quiet_nan, result);
  return std::uint16_t(sign | result);
}

// Exact: every fp16 value is a float.
inline float fp16_to_float(std::uint16_t value) {
  using half_detail::mask, half_detail::pick;
  const std::uint32_t sign = std::uint32_t(value & 0x8000u) << 16;
  const std::uint32_t exponent = (value >> 10) & 0x1fu;
  const std::uint32_t mantissa = value & 0x03ffu;
  const std::uint32_t normal = ((exponent + 112u) << 23) | (mantissa << 13);
  const std::uint32_t inf_or_nan = 0x7f800000u | (mantissa << 13);
  // mantissa * 2^-24, exact (at most 10 significant bits); zero included.
  const auto subnormal = std::bit_cast<std::uint32_t>(float(std::int32_t(mantissa)) * 0x1p-24f);
  std::uint32_t magnitude = pick(mask(exponent == 0), subnormal, normal);
  magnitude = pick(mask(exponent == 0x1fu), inf_or_nan, magnitude);
  return std::bit_cast<float>(sign | magnitude);
}

// Span conversions for the exchange's hot path: element i of `to` from
// element i of `from`; the spans have the same length. `precision` is bf16
// or fp16 (fp32 has no 16-bit form: std::invalid_argument, as for a length
// mismatch). One loop per format, so that each vectorizes.
inline void round_to_16_bits(std::span<const float> from, std::span<std::uint16_t> to, GradPrecision precision) {
  if (from.size() != to.size()) throw std::invalid_argument("round_to_16_bits: spans of different lengths");
  const std::size_t n = from.size();
  const float* in = from.data();
  std::uint16_t* out = to.data();
  switch (precision) {
    case GradPrecision::bf16:
      for (std::size_t i = 0; i < n; ++i) out[i] = float_to_bf16(in[i]);
      return;
    case GradPrecision::fp16:
      for (std::size_t i = 0; i < n; ++i) out[i] = float_to_fp16(in[i]);
      return;
    case GradPrecision::fp32: break;
  }
  throw std::invalid_argument("round_to_16_bits: fp32 is no 16-bit format");
}

namespace half_detail {
// to[i] = combine(to[i], widened from[i]), one loop per format.
template <class Combine>
void widen_each(std::span<const std::uint16_t> from, std::span<float> to, GradPrecision precision, const char* who,
                Combine combine) {
  if (from.size() != to.size()) throw std::invalid_argument(std::string(who) + ": spans of different lengths");
  const std::size_t n = from.size();
  const std::uint16_t* in = from.data();
  float* out = to.data();
  switch (precision) {
    case GradPrecision::bf16:
      for (std::size_t i = 0; i < n; ++i) out[i] = combine(out[i], bf16_to_float(in[i]));
      return;
    case GradPrecision::fp16:
      for (std::size_t i = 0; i < n; ++i) out[i] = combine(out[i], fp16_to_float(in[i]));
      return;
    case GradPrecision::fp32: break;
  }
  throw std::invalid_argument(std::string(who) + ": fp32 is no 16-bit format");
}
}  // namespace half_detail

inline void widen_from_16_bits(std::span<const std::uint16_t> from, std::span<float> to, GradPrecision precision) {
  half_detail::widen_each(from, to, precision, "widen_from_16_bits", [](float, float wide) { return wide; });
}

// to[i] += widened from[i], in float: one step of a sum of 16-bit values.
inline void add_from_16_bits(std::span<const std::uint16_t> from, std::span<float> to, GradPrecision precision) {
  half_detail::widen_each(from, to, precision, "add_from_16_bits", [](float sum, float wide) { return sum + wide; });
}

}  // namespace sinapsis
