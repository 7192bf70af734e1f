// sinapsis plan: how a network's training step would scale over 1..N ranks,
// predicted by core/scaling_model.hpp from this host's measured GEMM and
// memory rates (or --gflops / --memory-gbs) and a link (--link and
// --latency, or a calibration file of `sinapsis info --network`). Prints a
// table, CSV or JSON; report draws the efficiency curves of a saved plan.
#include <algorithm>
#include <cmath>
#include <charconv>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "core/number_text.hpp"
#include "core/blas_runtime.hpp"
#include "core/error.hpp"
#include "core/gradient_buckets.hpp"
#include "core/model.hpp"
#include "core/scaling_model.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "launch/host_layout.hpp"
#include "launch/memory_check.hpp"
#include "launch/network_calibration.hpp"
#include "launch/options.hpp"
#include "launch/step_calibration.hpp"

namespace sinapsis::cli {
namespace {

// When neither --link nor --network is given: a common cluster Ethernet
// and the latency of a good TCP stack over it.
constexpr const char* kDefaultLink = "25gbit";
constexpr const char* kDefaultLatency = "5us";
// The trainer's step is timed in this many rounds of each number of trainers
// at once, each round at least this long and this many steps per trainer.
constexpr int kTimingRounds = 3;
constexpr double kTimingRoundSeconds = 1.0;
constexpr std::size_t kTimingRoundSteps = 5;
// More cores per node than this are a typo.
constexpr int kMostCoresPerNode = 1 << 20;
// Rank lists longer than this are typos (each row searches a batch size).
constexpr std::size_t kMostRows = 4096;
constexpr std::size_t kMostRanks = std::size_t{1} << 24;

struct PlanOptions {
  std::string model, data, hidden = "8,8";
  std::size_t inputs = 0, outputs = 0, batch_per_rank = 256, ranks_per_node = 1;
  int cores_per_node = 0;  // 0 (not given): this host's usable CPUs
  std::string ranks = "1,2,4,...,1024";
  std::string link, latency, network;
  std::string grad_precision = "fp32", overlap = "auto", format = "table", out;
  double bucket_mb = kDefaultBucketMb, gflops = 0, memory_gbs = 0, momentum = 0;
  int threads = 0;
  std::size_t timed_together = 0;  // 0: --ranks-per-node, at most what this host's cores hold
};

void describe(po::options_description& o, PlanOptions& v) {
  o.add_options()
    ("model", po::value(&v.model), "take the network from this model file (RUN_DIR/model.h5)")
    ("data", po::value(&v.data), "take inputs and outputs from this data file (as train would), hidden layers from --hidden")
    ("inputs", number(&v.inputs, at_least(1)), "inputs of the network (with --outputs, instead of --model or --data)")
    ("outputs", number(&v.outputs, at_least(1)), "outputs of the network")
    ("hidden", po::value(&v.hidden)->default_value(v.hidden), "hidden layer widths, e.g. 1024,1024 ('none' for no hidden layer)")
    ("batch-per-rank", number(&v.batch_per_rank, at_least(1))->default_value(v.batch_per_rank), "samples per rank per step (>= 1)")
    ("ranks", po::value(&v.ranks)->default_value(v.ranks),
     "rank counts to predict, strictly increasing; '...' continues the geometric (or arithmetic) series of the "
     "terms before it up to the last, e.g. 1,2,4,...,1024 or 8,16,...,128")
    ("ranks-per-node", number(&v.ranks_per_node, closed(1, double(kMostRanks)))->default_value(v.ranks_per_node),
     "ranks on each node (placed in rank order): the exchanges among them go over shared memory, those between "
     "nodes share the node's link")
    ("cores-per-node", number(&v.cores_per_node, closed(1, kMostCoresPerNode)),
     "cores of each node, for the BLAS threads per rank and whether the exchange thread gets a core of its own "
     "(default: this host's usable CPUs; give the cluster's when planning from another machine)")
    ("link", po::value(&v.link), "bandwidth between nodes: a number and kbit, mbit, gbit or tbit, e.g. 10gbit, 400mbit (default 25gbit)")
    ("latency", po::value(&v.latency), "latency between nodes: a number and ns, us, ms or s, e.g. 2us (default 5us)")
    ("network", po::value(&v.network), "take the link from this calibration file of sinapsis info --network --out (not with --link/--latency)")
    ("grad-precision", po::value(&v.grad_precision)->default_value(v.grad_precision), "fp32|bf16|fp16: gradients on the wire, as train's option")
    ("overlap", po::value(&v.overlap)->default_value(v.overlap),
     "auto|on|off, as train's option; auto: on when the ranks span nodes and --cores-per-node leaves each of "
     "--ranks-per-node ranks a core beyond its BLAS threads. Without that core the exchange thread hides nothing")
    ("bucket-mb", number(&v.bucket_mb, closed(0.01, 1024))->default_value(v.bucket_mb), "with --overlap: megabytes (2^20 bytes) of gradient per bucket, as train's option")
    ("gflops", number(&v.gflops, at_least(0))->default_value(0), "GEMM rate of a rank, GFLOP/s (0: measure the step's GEMMs on this host)")
    ("memory-gbs", number(&v.memory_gbs, at_least(0))->default_value(0), "memory streaming rate of a rank, GB/s (0: measure on this host)")
    ("threads", number(&v.threads, at_least(0))->default_value(v.threads), "BLAS threads per rank (0: --cores-per-node / --ranks-per-node, at least 1, as train)")
    ("momentum", number(&v.momentum, closed_open(0, 1))->default_value(v.momentum), "SGD momentum of the job, as train's option (its update streams the velocity too)")
    ("timed-together", number(&v.timed_together, closed(0, 4096))->default_value(v.timed_together),
     "trainers timed at once on this host for the rows of several ranks: how many ranks of the job share a "
     "host's cores, caches and memory bus (0: --ranks-per-node, at most this host's cores over --threads). "
     "The emulated hosts of experiments/cluster share one machine: give their number")
    ("format", po::value(&v.format)->default_value(v.format), "table|csv|json")
    ("out", po::value(&v.out), "write the plan (in --format) to this file instead of printing it; sinapsis report draws it");
}

// ---- Parsing ------------------------------------------------------------------

// "25gbit" -> 25 and "gbit"; UsageError naming the option if no number leads.
std::pair<double, std::string> number_and_unit(const std::string& text, const std::string& option,
                                               const std::string& example) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || !std::isfinite(value))
    throw UsageError(option_text(option, text) + " is not a number with a unit, e.g. " + example);
  return {value, std::string(end, text.data() + text.size())};
}

// Seconds per byte of a link of `text` bits per second.
double parse_link(const std::string& text) {
  static const std::map<std::string, double> units = {{"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"tbit", 1e12}};
  const auto [value, unit] = number_and_unit(text, "link", "25gbit");
  const auto found = units.find(unit);
  if (found == units.end())
    throw UsageError(option_text("link", text) + ": unknown unit '" + unit + "' (expected kbit, mbit, gbit or tbit, e.g. 25gbit)");
  if (!(value > 0)) throw UsageError(option_text("link", text) + " must be > 0");
  return 8 / (value * found->second);
}

double parse_latency(const std::string& text) {
  static const std::map<std::string, double> units = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}};
  const auto [value, unit] = number_and_unit(text, "latency", "5us");
  const auto found = units.find(unit);
  if (found == units.end())
    throw UsageError(option_text("latency", text) + ": unknown unit '" + unit + "' (expected ns, us, ms or s, e.g. 5us)");
  if (!(value >= 0)) throw UsageError(option_text("latency", text) + " must be >= 0");
  return value * found->second;
}

// "1,2,4,...,1024" -> 1, 2, 4, ..., 1024: strictly increasing, >= 1. The
// ellipsis continues the series of the terms before it: geometric when they
// are (a whole ratio >= 2; with only two terms, when the last is reached
// that way), else arithmetic; the term after it must be in the series.
std::vector<std::size_t> parse_rank_list(const std::string& text) {
  const std::string subject = option_text("ranks", text);
  std::vector<std::size_t> ranks;
  const std::vector<std::string> items = parse_name_list(text);
  const auto whole = [&](const std::string& item) {
    std::size_t value = 0;
    if (const std::string reason = read_number(item, closed(1, double(kMostRanks)), value); !reason.empty())
      throw UsageError(subject + ": '" + item + "' " + reason);
    return value;
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i] != "...") {
      const std::size_t value = whole(items[i]);
      if (!ranks.empty() && value <= ranks.back())
        throw UsageError(subject + " must increase strictly: " + items[i] + " follows " + std::to_string(ranks.back()));
      ranks.push_back(value);
      continue;
    }
    if (ranks.size() < 2 || i + 2 != items.size())
      throw UsageError(subject + ": '...' needs two terms before it and one, the last, after it (e.g. 1,2,4,...,1024)");
    const std::size_t last = whole(items[i + 1]);
    const std::size_t a = ranks[ranks.size() - 2], b = ranks.back();
    const bool third = ranks.size() >= 3;
    const std::size_t before = third ? ranks[ranks.size() - 3] : 0;
    bool geometric = b % a == 0 && b / a >= 2 && (!third || (a % before == 0 && a / before == b / a));
    if (geometric && !third) {  // 2,4,...: geometric only if it lands on the last term
      std::size_t term = b;
      while (term < last && term <= kMostRanks) term *= b / a;
      geometric = term == last;
    }
    if (!geometric && third && b - a != a - before)
      throw UsageError(subject + ": " + std::to_string(before) + "," + std::to_string(a) + "," + std::to_string(b) +
                       " is neither a geometric nor an arithmetic series");
    for (std::size_t term = b;;) {
      term = geometric ? term * (b / a) : term + (b - a);
      if (term > last) throw UsageError(subject + ": " + std::to_string(last) + " is not a term of the series before '...'");
      if (ranks.size() >= kMostRows) break;
      ranks.push_back(term);
      if (term == last) break;
    }
    break;
  }
  if (ranks.empty()) throw UsageError(subject + ": give at least one rank count");
  if (ranks.size() >= kMostRows)
    throw UsageError(subject + " gives more than " + std::to_string(kMostRows - 1) + " rank counts");
  return ranks;
}

OverlapMode parse_overlap(const std::string& text) {
  if (text == "auto") return OverlapMode::automatic;
  if (text == "on") return OverlapMode::on;
  if (text == "off") return OverlapMode::off;
  throw UsageError("--overlap: unknown value '" + text + "' (expected auto, on or off)");
}

// The network from --model, or --data and --hidden, or --inputs, --outputs
// and --hidden. The unit types do not change the prediction.
Architecture planned_architecture(const PlanOptions& v, const po::variables_map& values) {
  const bool shape_given = values.count("inputs") || values.count("outputs");
  if (!v.model.empty()) {
    if (!v.data.empty() || shape_given || !values["hidden"].defaulted())
      throw UsageError("--model gives the whole network: drop --data, --inputs, --outputs and --hidden");
    return read_model_file(v.model).model.architecture();
  }
  const std::vector<std::size_t> hidden = parse_size_list(v.hidden, "hidden");
  std::size_t inputs = v.inputs, outputs = v.outputs;
  if (!v.data.empty()) {
    if (shape_given) throw UsageError("--data gives the inputs and outputs: drop --inputs and --outputs");
    const Dataset data = read_data_file(v.data);
    inputs = data.dimension();
    outputs = data.task == Task::classification ? data.classes : data.targets.cols;
  } else if (!values.count("inputs") || !values.count("outputs")) {
    throw UsageError("give the network: --model FILE, or --data FILE, or --inputs and --outputs (with --hidden)");
  }
  try {
    return Architecture::mlp(inputs, hidden, Activation::relu, outputs, Activation::linear);
  } catch (const ModelError& e) {
    throw UsageError(option_text("hidden", v.hidden) + ": " + e.what());
  }
}

// ---- Rates --------------------------------------------------------------------

// What the prediction rests on, for the header and the JSON.
struct Calibration {
  HostRates rates;
  double gflops = 0;  // given, or the measured step's flops / seconds
  bool gemm_measured = false, memory_measured = false;
  int threads = 1;                 // BLAS threads per rank on the planned nodes
  int measuring_threads = 1;       // those of them this host has cores for
  int cores_per_node = 1;
  bool cores_given = false;        // --cores-per-node, or this host's
  bool exchange_has_own_core = false;
  Cluster cluster;
  std::string link_source;  // "--link 25gbit --latency 5us" or "--network FILE (...)"
};

// Each GEMM shape of the step timed on this host; a shape not measured (the
// batch search's) runs at the rate of the measured one nearest in flops.
GemmSeconds measured_gemms(const std::vector<GemmShape>& shapes, double& gflops) {
  auto table = std::make_shared<std::map<GemmShape, double>>();
  double flops = 0, seconds = 0;
  for (const GemmShape& s : shapes) {
    if (table->count(s)) continue;
    const Transpose a = s.pass == GemmPass::weight_gradient ? Transpose::yes : Transpose::no;
    const Transpose b = s.pass == GemmPass::input_gradient ? Transpose::yes : Transpose::no;
    (*table)[s] = measure_sgemm_seconds(s.m, s.n, s.k, a, b);
  }
  for (const GemmShape& s : shapes) {
    flops += s.flops();
    seconds += table->at(s);
  }
  gflops = flops / seconds / 1e9;
  return [table](const GemmShape& shape) {
    if (const auto found = table->find(shape); found != table->end()) return found->second;
    double nearest = 0, distance = std::numeric_limits<double>::infinity();
    for (const auto& [measured, seconds_taken] : *table) {
      const double d = std::abs(std::log(measured.flops() / shape.flops()));
      if (d < distance) {
        distance = d;
        nearest = measured.flops() / seconds_taken;
      }
    }
    return shape.flops() / nearest;
  };
}

// How many trainers plan times at once: 1 for one rank, min(p, N) for p > 1
// (N: --timed-together, or the ranks per node this host's cores hold).
std::vector<std::size_t> timed_together(const PlanOptions& v, std::span<const std::size_t> ranks, int host_cores,
                                        int measuring_threads) {
  const std::size_t most = v.timed_together > 0
                               ? v.timed_together
                               : std::clamp<std::size_t>(std::size_t(host_cores / measuring_threads), 1, v.ranks_per_node);
  std::vector<std::size_t> together{1};
  for (const std::size_t p : ranks)
    if (p > 1 && std::find(together.begin(), together.end(), std::min(p, most)) == together.end())
      together.push_back(std::min(p, most));
  std::sort(together.begin(), together.end());
  return together;
}

// The trainer's step timed with each number of trainers at once, each
// against the model's compute from the rates just measured
// (step_calibration.hpp).
void measure_trainer_steps(const PlanOptions& v, const Architecture& architecture,
                           const std::vector<std::size_t>& together, int host_cores, Calibration& c) {
  const std::size_t most = together.back();
  const double modelled = predict_step({architecture, v.batch_per_rank, 1}, {}, c.rates).compute_seconds;
  if (most * std::size_t(c.measuring_threads) > std::size_t(host_cores))
    std::cerr << "sinapsis plan: warning: timing " << most << " trainers at once (--timed-together) of "
              << c.measuring_threads << " BLAS thread(s) on " << host_cores
              << " usable CPU(s) of this process: they share cores the planned ranks may not\n";
  // In kTimingRounds rounds of each count in turn, so that a slow spell of
  // this host (another tenant of a virtual machine) falls on all of them alike.
  std::vector<std::vector<double>> seconds(together.size());
  for (int round = 0; round < kTimingRounds; ++round)
    for (std::size_t i = 0; i < together.size(); ++i) {
      StepTimingOptions timing;
      timing.batch = v.batch_per_rank;
      timing.together = together[i];
      timing.momentum = v.momentum;
      timing.prefetch = host_cores >= 2;  // as train
      timing.seconds = kTimingRoundSeconds;
      timing.min_steps = kTimingRoundSteps;
      const std::vector<double> more = time_trainer_steps(architecture, timing);
      seconds[i].insert(seconds[i].end(), more.begin(), more.end());
    }
  for (std::size_t i = 0; i < together.size(); ++i) {
    std::vector<double>& s = seconds[i];
    if (s.empty()) continue;
    double mean = 0;
    for (const double x : s) mean += x / double(s.size());
    std::sort(s.begin(), s.end());
    for (double& x : s) x /= mean;
    c.rates.measured_steps.push_back({together[i], mean / modelled, mean, std::move(s)});
  }
}

Calibration calibrate(const PlanOptions& v, const po::variables_map& values, const Architecture& architecture,
                      std::span<const std::size_t> ranks, std::size_t bucket_floats) {
  Calibration c;
  c.cluster.ranks_per_node = v.ranks_per_node;
  std::optional<NetworkCalibration> file;  // read before measuring: a bad file fails at once
  if (!v.network.empty()) file = read_network_calibration(v.network);
  const int host_cores = std::max(1, usable_cpus());
  c.cores_given = values.count("cores-per-node") > 0;
  c.cores_per_node = c.cores_given ? v.cores_per_node : host_cores;
  c.threads = v.threads > 0 ? v.threads
                            : int(std::max<std::size_t>(1, std::size_t(c.cores_per_node) / v.ranks_per_node));
  // As train's rule: a core per rank beyond its BLAS threads.
  c.exchange_has_own_core = std::size_t(c.cores_per_node) >= v.ranks_per_node * std::size_t(c.threads + 1);
  // Timing more threads than this host has cores would time the contention.
  c.measuring_threads = std::min(c.threads, host_cores);
  std::vector<std::size_t> together;  // trainers timed at once, when measuring
  if (v.gflops > 0) {
    c.gflops = v.gflops;
    c.rates.gemm = gemm_at_gflops(v.gflops);
  } else {
    require_training_memory(architecture, v.batch_per_rank, "measuring the step's GEMMs on this host (give --gflops instead)");
    together = timed_together(v, ranks, host_cores, c.measuring_threads);
    require_timing_memory(architecture, v.batch_per_rank, together.back());
    set_blas_threads(c.measuring_threads);
    std::vector<GemmShape> shapes = step_gemm_shapes(architecture, v.batch_per_rank);
    const BucketPlan buckets(architecture, Model<float>::kControlSlots, bucket_floats);
    for (const GemmShape& s : step_gemm_shapes(architecture, v.batch_per_rank, buckets.chunk_rows())) shapes.push_back(s);
    c.rates.gemm = measured_gemms(shapes, c.gflops);
    c.gemm_measured = true;
  }
  c.memory_measured = !(v.memory_gbs > 0);
  c.rates.memory_bytes_per_second = c.memory_measured ? measure_memory_bytes_per_second() : v.memory_gbs * 1e9;
  if (c.gemm_measured) measure_trainer_steps(v, architecture, together, host_cores, c);
  if (file) {
    c.cluster.network = file->link;
    if (file->hosts == 1) c.cluster.shared_memory = file->link;  // measured between the ranks of one host
    c.cluster.measured = file->samples;
    std::sort(c.cluster.measured.begin(), c.cluster.measured.end(),
              [](const TimedSample& x, const TimedSample& y) { return x.bytes < y.bytes; });
    c.cluster.measured_ranks = std::size_t(file->ranks);
    c.cluster.measured_ranks_per_node = std::size_t(file->ranks_per_node);
    c.link_source = "--network " + v.network + " (" + std::to_string(file->ranks) + " ranks on " +
                    std::to_string(file->hosts) + " host(s), " + file->transport + ")";
  } else {
    const std::string link = values.count("link") ? v.link : kDefaultLink;
    const std::string latency = values.count("latency") ? v.latency : kDefaultLatency;
    // Summing a byte streams about three (two read, one written).
    c.cluster.network = {parse_latency(latency), parse_link(link), 3 / c.rates.memory_bytes_per_second};
    c.link_source = "--link " + link + " --latency " + latency;
  }
  return c;
}

// ---- Output -------------------------------------------------------------------

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}
std::string exact(double value) { return significant(value, 10); }

constexpr const char* kCsvHeader =
    "ranks,nodes,overlap,exchange,step_seconds,compute_seconds,comm_seconds,comm_total_seconds,samples_per_second,"
    "speedup,efficiency,min_batch_per_rank_90,bytes_per_step,wait_seconds";

std::string csv(const std::vector<PlanRow>& rows) {
  std::string out = std::string(kCsvHeader) + "\n";
  for (const auto& r : rows)
    out += std::to_string(r.ranks) + "," + std::to_string(r.nodes) + "," + (r.overlap ? "on" : "off") + "," +
           std::string(r.exchange) + "," + exact(r.step.step_seconds) + "," + exact(r.step.compute_seconds) + "," +
           exact(r.step.exposed_comm_seconds) + "," + exact(r.step.comm_seconds) + "," + exact(r.samples_per_second) +
           "," + exact(r.speedup) + "," + exact(r.efficiency) + "," +
           (r.min_batch_per_rank ? std::to_string(*r.min_batch_per_rank) : "none") + "," + exact(r.step.bytes_per_step) +
           "," + exact(r.step.wait_seconds) + "\n";
  return out;
}

std::string describe_link(const Link& link) {
  return "alpha " + fixed(link.alpha * 1e6, 2) + " us, beta " + fixed(link.beta * 1e9, 4) + " ns/byte, gamma " +
         fixed(link.gamma * 1e9, 4) + " ns/byte";
}

// "trainer step: 2.41 ms alone (1.12 x the GEMMs and memory passes), 2.90 ms
// with 2 at once (1.35 x); slowest of 2 ranks: +3.1 %, of 1024: +18.2 %"
std::string trainer_steps(const Calibration& c) {
  if (c.rates.measured_steps.empty()) return "";
  std::ostringstream out;
  out << "trainer step measured:";
  for (std::size_t i = 0; i < c.rates.measured_steps.size(); ++i) {
    const MeasuredSteps& m = c.rates.measured_steps[i];
    out << (i ? ", " : " ") << fixed(m.mean_seconds * 1e3, 3) << " ms "
        << (m.together == 1 ? std::string("alone") : "with " + std::to_string(m.together) + " at once") << " ("
        << fixed(m.scale, 2) << " x the GEMMs and memory passes)";
  }
  const MeasuredSteps& last = c.rates.measured_steps.back();
  out << "; the slowest of 2 ranks' steps: +" << fixed((expected_largest(last.spread, 2) - 1) * 100, 1)
      << " %, of 1024: +" << fixed((expected_largest(last.spread, 1024) - 1) * 100, 1) << " %\n";
  return out.str();
}

std::string header(const PlanOptions& v, const Architecture& a, const Calibration& c, const std::vector<PlanRow>& rows) {
  std::ostringstream out;
  out << "network " << a.describe() << ", " << a.parameter_count() << " parameters; " << v.batch_per_rank
      << " samples per rank; " << v.grad_precision << " gradients; --overlap " << v.overlap << "\n"
      << "compute: GEMM " << fixed(c.gflops, 1) << " GFLOP/s "
      << (c.gemm_measured ? "measured on this host (" + std::to_string(c.measuring_threads) + " BLAS thread(s))" : "given")
      << ", memory " << fixed(c.rates.memory_bytes_per_second / 1e9, 1) << " GB/s "
      << (c.memory_measured ? "measured" : "given") << "\n"
      << trainer_steps(c)
      << "node: " << c.cores_per_node << " cores ("
      << (c.cores_given ? "--cores-per-node" : "this host's usable CPUs; --cores-per-node for the cluster's") << "), "
      << v.ranks_per_node << " rank(s) of " << c.threads << " BLAS thread(s): the exchange thread has "
      << (c.exchange_has_own_core ? "a core of its own" : "no core of its own") << "\n"
      << "link: " << c.link_source << ": " << describe_link(c.cluster.network) << "\n";
  if (v.ranks_per_node > 1)
    out << "within a node (" << v.ranks_per_node << " ranks): shared memory, " << describe_link(c.cluster.shared_memory) << "\n";
  const PlanRow& last = rows.back();
  out << "exchange at " << last.ranks << " ranks (" << last.nodes << " node(s)): " << last.exchange << "\n";
  return out.str();
}

std::string table(const std::vector<PlanRow>& rows) {
  std::ostringstream out;
  out << std::setw(7) << "ranks" << std::setw(7) << "nodes" << std::setw(8) << "overlap" << std::setw(11) << "step ms"
      << std::setw(12) << "compute ms" << std::setw(10) << "comm ms" << std::setw(12) << "(total) ms" << std::setw(13)
      << "samples/s" << std::setw(10) << "speedup" << std::setw(11) << "efficiency" << std::setw(15) << "batch for 90%"
      << "\n";
  for (const auto& r : rows)
    out << std::setw(7) << r.ranks << std::setw(7) << r.nodes << std::setw(8) << (r.overlap ? "on" : "off")
        << std::setw(11) << fixed(r.step.step_seconds * 1e3, 3) << std::setw(12) << fixed(r.step.compute_seconds * 1e3, 3)
        << std::setw(10) << fixed(r.step.exposed_comm_seconds * 1e3, 3) << std::setw(12)
        << fixed(r.step.comm_seconds * 1e3, 3) << std::setw(13) << fixed(r.samples_per_second, 0) << std::setw(10)
        << fixed(r.speedup, 2) << std::setw(11) << fixed(r.efficiency, 3) << std::setw(15)
        << (r.min_batch_per_rank ? std::to_string(*r.min_batch_per_rank) : "none") << "\n";
  return out.str();
}

std::string json(const PlanOptions& v, const Architecture& a, const Calibration& c, const std::vector<PlanRow>& rows) {
  using nlohmann::ordered_json;
  ordered_json json_rows = ordered_json::array();
  for (const auto& r : rows)
    json_rows.push_back({{"ranks", r.ranks},
                         {"nodes", r.nodes},
                         {"overlap", r.overlap},
                         {"exchange", r.exchange},
                         {"step_seconds", r.step.step_seconds},
                         {"compute_seconds", r.step.compute_seconds},
                         {"comm_seconds", r.step.exposed_comm_seconds},
                         {"comm_total_seconds", r.step.comm_seconds},
                         {"samples_per_second", r.samples_per_second},
                         {"speedup", r.speedup},
                         {"efficiency", r.efficiency},
                         {"min_batch_per_rank_90", r.min_batch_per_rank ? ordered_json(*r.min_batch_per_rank) : nullptr},
                         {"bytes_per_step", r.step.bytes_per_step},
                         {"wait_seconds", r.step.wait_seconds}});
  const auto link = [](const Link& l) {
    return ordered_json{{"alpha_seconds", l.alpha}, {"beta_seconds_per_byte", l.beta}, {"gamma_seconds_per_byte", l.gamma}};
  };
  ordered_json measured_steps = ordered_json::array();
  for (const MeasuredSteps& m : c.rates.measured_steps)
    measured_steps.push_back({{"together", m.together},
                              {"mean_step_seconds", m.mean_seconds},
                              {"scale", m.scale},
                              {"steps_timed", m.spread.size()},
                              {"slowest_of_2", expected_largest(m.spread, 2)},
                              {"slowest_of_1024", expected_largest(m.spread, 1024)}});
  const ordered_json plan = {{"format", "sinapsis-plan"},
                             {"version", 1},
                             {"inputs",
                              {{"network", a.describe()},
                               {"parameters", a.parameter_count()},
                               {"batch_per_rank", v.batch_per_rank},
                               {"ranks_per_node", v.ranks_per_node},
                               {"cores_per_node", c.cores_per_node},
                               {"grad_precision", v.grad_precision},
                               {"overlap", v.overlap},
                               {"bucket_mb", v.bucket_mb}}},
                             {"calibration",
                              {{"gemm_gflops", c.gflops},
                               {"gemm_measured", c.gemm_measured},
                               {"blas_threads", c.threads},
                               {"memory_bytes_per_second", c.rates.memory_bytes_per_second},
                               {"memory_measured", c.memory_measured},
                               {"trainer_steps", measured_steps},
                               {"link_source", c.link_source},
                               {"network", link(c.cluster.network)},
                               {"shared_memory", link(c.cluster.shared_memory)}}},
                             {"rows", json_rows}};
  return json_text(plan) + "\n";
}

}  // namespace

std::vector<CommandOptions> plan_options() { return {described<PlanOptions>("plan")}; }

int plan_command(const Args& args, Communicator&) {
  po::options_description options("sinapsis plan options");
  PlanOptions v;
  describe(options, v);
  po::variables_map values;
  if (!parse("plan", args, options, values,
             "--inputs N --outputs K [--hidden 1024,1024] | --model FILE | --data FILE  [--batch-per-rank B] "
             "[--ranks 1,2,4,...,1024] [--ranks-per-node R] [--cores-per-node C] [--link 25gbit --latency 5us | --network FILE] "
             "[--grad-precision fp32|bf16|fp16] [--overlap auto|on|off] [--format table|csv|json] [--out FILE]"))
    return kExitSuccess;
  // Every option is checked before anything is read or measured.
  if (v.format != "table" && v.format != "csv" && v.format != "json")
    throw UsageError("--format: unknown format '" + v.format + "' (expected table, csv or json)");
  const GradPrecision precision = parse_grad_precision(v.grad_precision, "--grad-precision");
  const OverlapMode overlap = parse_overlap(v.overlap);
  const std::vector<std::size_t> ranks = parse_rank_list(v.ranks);
  if (values.count("link")) parse_link(v.link);
  if (values.count("latency")) parse_latency(v.latency);
  if (!v.network.empty() && (values.count("link") || values.count("latency")))
    throw UsageError("--network: " + v.network + " gives the link: drop --link and --latency");
  const std::size_t bucket_floats = std::max<std::size_t>(1, std::size_t(v.bucket_mb * 1024 * 1024 / sizeof(float)));

  const Architecture architecture = planned_architecture(v, values);
  const Calibration c = calibrate(v, values, architecture, ranks, bucket_floats);
  const PlanSpec spec{architecture, v.batch_per_rank, precision, overlap, bucket_floats, c.exchange_has_own_core};
  const std::vector<PlanRow> rows = plan_rows(spec, ranks, c.cluster, c.rates);

  const std::string text = v.format == "csv"    ? csv(rows)
                           : v.format == "json" ? json(v, architecture, c, rows)
                                                : header(v, architecture, c, rows) + table(rows);
  if (v.out.empty()) {
    std::cout << text << std::flush;
  } else {
    write_file_atomically(v.out, text);
    std::cout << "wrote " << v.out << " (" << rows.size() << " rank counts, " << v.format << ")\n";
  }
  return kExitSuccess;
}

}  // namespace sinapsis::cli
