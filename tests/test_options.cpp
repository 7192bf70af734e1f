// Numeric options as the parser reads them (launch/options.hpp): what
// read_number() accepts and refuses for each kind of variable, the bounds
// and their wording, a numeric option inside Boost naming itself, list
// options, and the memory check's arithmetic (launch/memory_check.hpp).
// tests/test_option_values.cpp drives every option of the real binary.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "core/error.hpp"
#include "launch/memory_check.hpp"
#include "launch/options.hpp"

namespace sinapsis::cli {
namespace {

template <class T>
std::string refusal(const std::string& text, const Bounds& bounds = {}) {
  T value{};
  return read_number(text, bounds, value);
}

TEST(ReadNumber, TakesWholeNumbersInDecimalDigitsOnly) {
  std::size_t value = 0;
  EXPECT_EQ(read_number("42", at_least(1), value), "");
  EXPECT_EQ(value, 42u);
  EXPECT_EQ(read_number("18446744073709551615", {.low = 0}, value), "");
  EXPECT_EQ(value, std::numeric_limits<std::size_t>::max());
  for (const char* bad : {"-1", "-0", "abc", "5x", "", " 5", "5 ", "+5", "1e3", "1.5", "0x10", "nan", "inf"})
    EXPECT_EQ(refusal<std::size_t>(bad, {.low = 0}), "is not a whole number >= 0") << "'" << bad << "'";
  EXPECT_EQ(refusal<std::size_t>("18446744073709551616", {.low = 0}), "is too large (at most 18446744073709551615)");
  EXPECT_EQ(refusal<std::size_t>("0", at_least(1)), "is not a whole number >= 1");
  EXPECT_EQ(refusal<int>("-1", at_least(0)), "is not a whole number >= 0");
  EXPECT_EQ(refusal<int>("-99999999999", at_least(0)), "is not a whole number >= 0");
  EXPECT_EQ(refusal<int>("99999999999", at_least(0)), "is too large (at most 2147483647)");
  EXPECT_EQ(refusal<int>("7", closed(1, 4)), "is not a whole number in [1, 4]");
}

TEST(ReadNumber, TakesFiniteRealsInsideTheBounds) {
  double value = 0;
  EXPECT_EQ(read_number("0.03", above(0), value), "");
  EXPECT_DOUBLE_EQ(value, 0.03);
  EXPECT_EQ(read_number("1e-3", above(0), value), "");
  EXPECT_EQ(read_number("-2.5", {}, value), "");
  EXPECT_EQ(value, -2.5);
  for (const char* bad : {"nan", "inf", "-inf", "infinity", "abc", "0.5x", "", "0", "-1", "1e400"})
    EXPECT_EQ(refusal<double>(bad, above(0)), "is not a finite number > 0") << "'" << bad << "'";
  EXPECT_EQ(refusal<double>("1e-400", above(0)), "is too close to 0 for a double");
  EXPECT_EQ(refusal<double>("1", open_closed(0, 1)), "");
  EXPECT_EQ(refusal<double>("1", closed_open(0, 1)), "is not a number in [0, 1)");
  EXPECT_EQ(refusal<double>("0", open_closed(0, 1)), "is not a number in (0, 1]");
  EXPECT_EQ(refusal<double>("nan", {}), "is not a finite number");
}

TEST(Bounds, SayWhatTheyHold) {
  EXPECT_EQ(at_least(1).text(), ">= 1");
  EXPECT_EQ(above(0).text(), "> 0");
  EXPECT_EQ(closed(0, 0.5).text(), "in [0, 0.5]");
  EXPECT_EQ(closed(0, 1e7).text(), "in [0, 10000000]");
  EXPECT_EQ(Bounds{}.text(), "");
  EXPECT_TRUE(closed_open(0, 1).contains(0));
  EXPECT_FALSE(closed_open(0, 1).contains(1));
}

// What Boost's own parse does with "-1" for a size_t: 2^64-1. number() is
// in its place, and its refusal names the option, through parse().
TEST(NumberOption, RefusesInsideBoostNamingTheOptionAndTheValue) {
  for (const Args& args : {Args{"--epochs", "-1"}, Args{"--epochs=-1"}}) {
    po::options_description options;
    std::size_t epochs = 100;
    options.add_options()("epochs", number(&epochs, at_least(1))->default_value(epochs), "");
    po::variables_map values;
    try {
      parse("test", args, options, values, "");
      FAIL() << "accepted --epochs -1: " << epochs;
    } catch (const UsageError& e) {
      EXPECT_STREQ(e.what(), "--epochs: '-1' is not a whole number >= 1");
    }
  }
  po::options_description options;
  std::uint64_t seed = 1;
  double lr = 0.1;
  options.add_options()("seed", number(&seed), "")("lr", number(&lr, above(0)), "");
  po::variables_map values;
  ASSERT_TRUE(parse("test", {"--seed", "18446744073709551615", "--lr=2.5"}, options, values, ""));
  EXPECT_EQ(seed, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(lr, 2.5);
  const auto* declared = dynamic_cast<const NumericValue*>(options.find("seed", false).semantic().get());
  ASSERT_NE(declared, nullptr);
  EXPECT_TRUE(declared->whole());
  EXPECT_EQ(declared->bounds().text(), ">= 0");  // unsigned: no negatives, whatever the declaration
}

TEST(NumberOption, GivenTwiceIsStillAnError) {
  po::options_description options;
  int threads = 0;
  options.add_options()("threads", number(&threads, at_least(0)), "");
  po::variables_map values;
  EXPECT_THROW(parse("test", {"--threads", "1", "--threads", "2"}, options, values, ""), UsageError);
}

TEST(ListOptions, SizesAreWholeNumbersOfOneOrMore) {
  EXPECT_EQ(parse_size_list("8,8", "hidden"), (std::vector<std::size_t>{8, 8}));
  EXPECT_EQ(parse_size_list("8, 4", "hidden"), (std::vector<std::size_t>{8, 4}));
  EXPECT_TRUE(parse_size_list("none", "hidden").empty());
  for (const char* bad : {"8,-1", "0", "8,,8", "8,", "x", "18446744073709551616", "8,4x"}) {
    try {
      parse_size_list(bad, "hidden");
      ADD_FAILURE() << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), "--hidden: '" + std::string(bad) + "' is not a comma-separated list of sizes >= 1");
    }
  }
}

TEST(OptionText, ShortensAValueLongerThanALine) {
  EXPECT_EQ(option_text("lr", "0.1"), "--lr: '0.1'");
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "8,";
  const std::string text = option_text("hidden", deep + "9");
  EXPECT_LT(text.size(), 100u);
  EXPECT_EQ(text.rfind("--hidden: '8,8,", 0), 0u);
  EXPECT_NE(text.find("..."), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 3), ",9'");
}

TEST(MemoryCheck, SumsWithoutWrapping) {
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(checked_sum(3, 4), 7u);
  EXPECT_EQ(checked_sum(max, 1), std::nullopt);
  EXPECT_EQ(checked_sum(std::nullopt, 1), std::nullopt);
}

TEST(MemoryCheck, RefusesMoreThanTheMachineHasNamingTheSubject) {
  const std::uint64_t machine = memory_limit_bytes();
  EXPECT_NO_THROW(require_memory(machine / 2, "--x: '1'", "nothing"));
  for (const std::optional<std::uint64_t> bytes : {std::optional<std::uint64_t>(machine + 1), std::optional<std::uint64_t>()}) {
    try {
      require_memory(bytes, "--samples: '9'", "9 points");
      FAIL();
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()), "--samples: '9': 9 points " + memory_shortfall_text(bytes));
    }
  }
}

TEST(MemoryCheck, TrainingTakesFiveCopiesOfTheParametersAndAWorkspace) {
  const std::vector<std::size_t> hidden{3};
  const Architecture a = Architecture::mlp(2, hidden, Activation::tanh, 1, Activation::linear);
  // 13 parameters, 4 units
  EXPECT_EQ(training_bytes(a, 10), sizeof(float) * (5 * 13 + 3 * 4 * 10));
  EXPECT_EQ(training_bytes(std::uint64_t{1} << 62, 1, 1), std::nullopt);
}

}  // namespace
}  // namespace sinapsis::cli
