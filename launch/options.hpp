// Helpers shared by the subcommands' option parsing: parsing with Boost,
// numeric options that refuse what they cannot hold, list options, and the
// options of every command (for --help and for the tests).
#pragma once

#include <boost/program_options.hpp>  // options_description, variables_map, typed_value

#include <charconv>  // from_chars
#include <cmath>     // isfinite
#include <cstddef>
#include <cstdlib>   // strtod
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "launch/commands.hpp"

namespace sinapsis::cli {

namespace po = boost::program_options;

// Parses args against `options`; returns false (after printing help) when
// --help was given. Boost's errors become UsageError naming the option.
bool parse(const std::string& command, const Args& args, po::options_description& options,
           po::variables_map& values, const std::string& synopsis,
           const po::positional_options_description* positional = nullptr);

// The first pass over a command line (Boost's allow_unregistered()): the
// values of the options in `known` alone, every other option passed over,
// for what decides how the rest is read (--resume, --out). UsageError for a
// bad value of a known option.
po::variables_map parse_known(const Args& args, const po::options_description& known);

// "--name: 'value'", the start of every message about an option's value (a
// value longer than a line is shortened in the middle).
std::string option_text(const std::string& option, const std::string& value);

// ---- Numeric options --------------------------------------------------------
//
// Every numeric option is declared with number(&variable, bounds): the value
// is checked where Boost parses it, so a bad one is refused with exit status
// 2 and one line naming the option and the value as given, before anything
// runs. Refused: text that is not a number ("abc"), trailing junk ("5x"), a
// negative value for an unsigned variable (Boost's own parse wraps "-1" to
// 2^64-1), a value out of the variable's type ("18446744073709551616",
// "1e400"), NaN and infinities, and any value outside `bounds`. Integer
// variables take whole numbers in decimal digits only. Values from --config
// files, from a resumed run's stored arguments and from sweep.args reach
// the parser as command-line tokens, so the same check covers them.

// The values a numeric option accepts: an interval of the real line.
struct Bounds {
  double low = -std::numeric_limits<double>::infinity();
  double high = std::numeric_limits<double>::infinity();
  bool low_open = false, high_open = false;

  bool contains(double value) const {
    return (low_open ? value > low : value >= low) && (high_open ? value < high : value <= high);
  }
  // ">= 1", "> 0", "in (0, 1]"; "" for the whole line.
  std::string text() const;
};
Bounds at_least(double low);                     // [low, inf)
Bounds above(double low);                        // (low, inf)
Bounds closed(double low, double high);          // [low, high]
Bounds closed_open(double low, double high);     // [low, high)
Bounds open_closed(double low, double high);     // (low, high]
Bounds open_open(double low, double high);       // (low, high)

// Reads `text` as a T within `bounds`. Returns "" and sets `value`, or says
// what is wrong ("is not a whole number >= 1"), for a message that starts
// with option_text().
template <class T>
std::string read_number(const std::string& text, const Bounds& bounds, T& value) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  const char* first = text.data();
  const char* last = first + text.size();
  const std::string within = bounds.text().empty() ? "" : " " + bounds.text();
  if constexpr (std::is_integral_v<T>) {
    const std::string wanted = "is not a whole number" + within;
    T parsed{};
    const auto [end, error] = std::from_chars(first, last, parsed);
    if (error == std::errc::result_out_of_range)
      return text.front() == '-' ? wanted : "is too large (at most " + std::to_string(std::numeric_limits<T>::max()) + ")";
    if (error != std::errc() || end != last || !bounds.contains(double(parsed))) return wanted;
    value = parsed;
  } else {
    // "finite" only where the interval does not already say it
    const bool bounded = std::isfinite(bounds.low) && std::isfinite(bounds.high);
    const std::string wanted = (bounded ? "is not a number" : "is not a finite number") + within;
    double parsed = 0;
    const auto [end, error] = std::from_chars(first, last, parsed);
    if (error == std::errc::result_out_of_range)  // 1e400 overflows; 1e-400 underflows
      return std::isinf(std::strtod(text.c_str(), nullptr)) ? wanted : "is too close to 0 for a double";
    if (error != std::errc() || end != last || !std::isfinite(parsed) || !bounds.contains(parsed)) return wanted;
    value = T(parsed);
  }
  return "";
}

// What every option declared with number() is, whatever its type: the
// tests find numeric options by their stored type, require this of them and
// try values just outside their bounds.
class NumericValue {
 public:
  virtual ~NumericValue() = default;
  virtual const Bounds& bounds() const = 0;
  virtual bool whole() const = 0;  // an integer variable
};

// A numeric token that read_number() refused. Boost's store() adds the
// option's name (that is what error_with_option_name is for); parse()
// turns it into a UsageError.
class InvalidNumber : public po::error_with_option_name {
 public:
  InvalidNumber(std::string token, std::string reason)
      : po::error_with_option_name("%canonical_option%"), token_(std::move(token)), reason_(std::move(reason)) {}
  const char* what() const noexcept override;

 private:
  std::string token_, reason_;
};

template <class T>
class NumberValue : public po::typed_value<T>, public NumericValue {
 public:
  NumberValue(T* target, Bounds bounds) : po::typed_value<T>(target), bounds_(bounds) {}
  const Bounds& bounds() const override { return bounds_; }
  bool whole() const override { return std::is_integral_v<T>; }

  // Boost's typed_value<T> parses with lexical_cast, which wraps "-1" for
  // unsigned T and takes "nan"; this replaces that parse.
  void xparse(boost::any& store, const std::vector<std::string>& tokens) const override {
    po::validators::check_first_occurrence(store);  // the option given twice
    const std::string& token = po::validators::get_single_string(tokens);
    T value{};
    if (const std::string reason = read_number(token, bounds_, value); !reason.empty())
      throw InvalidNumber(token, reason);
    store = value;
  }

 private:
  Bounds bounds_;
};

// Declares a numeric option writing to `target`; by default any value of
// T's type (for an unsigned T: any whole number >= 0).
template <class T>
NumberValue<T>* number(T* target, Bounds bounds = std::is_unsigned_v<T> ? Bounds{.low = 0} : Bounds{}) {
  return new NumberValue<T>(target, bounds);
}

// ---- List options -----------------------------------------------------------

// "a,b,c" -> {"a", "b", "c"}.
std::vector<std::string> parse_name_list(const std::string& text);

// "8,8" -> {8, 8}; "" or "none" -> {}. Throws UsageError naming `option`.
std::vector<std::size_t> parse_size_list(const std::string& text, const std::string& option);

// BLAS threads for a command that runs as one process: --threads N, or all
// the cores for 0 (see host_layout.hpp for ranks sharing a host).
int resolve_threads(int requested);

// ---- Every command's options ------------------------------------------------

// The options of one command as it parses them (parse() adds --help and
// --config), built by the describe() the command itself uses. `values`
// keeps the variables the options write to alive.
struct CommandOptions {
  std::string command;  // "train", "sweep merge", "data make", ...
  std::shared_ptr<po::options_description> options;
  std::shared_ptr<const void> values;
};

// The options of a command whose describe(options, Values&) declares them.
template <class Values>
CommandOptions described(const std::string& command) {
  auto values = std::make_shared<Values>();
  auto options = std::make_shared<po::options_description>("sinapsis " + command + " options");
  describe(*options, *values);
  return {command, options, values};
}

// Every command and action of the sinapsis executable, with its options.
std::vector<CommandOptions> every_command_options();
// Each defined beside its command, from the command's own describe().
std::vector<CommandOptions> train_options();
std::vector<CommandOptions> sweep_options();    // sweep, sweep merge
std::vector<CommandOptions> predict_options();  // predict, eval
std::vector<CommandOptions> report_options();
std::vector<CommandOptions> info_options();
std::vector<CommandOptions> data_options();     // data make, shard, import, inspect
std::vector<CommandOptions> plan_options();

}  // namespace sinapsis::cli
