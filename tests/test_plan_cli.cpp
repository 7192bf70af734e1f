// sinapsis plan through the binary: the table, CSV and JSON of one plan agree
// with each other and, with the rates given (--gflops, --memory-gbs), with
// the pure model (core/scaling_model.hpp) to the digits printed; the network
// comes from --inputs/--outputs/--hidden, a model file, a data file; the link
// from --link/--latency or a calibration file; every bad input is one line
// naming the option and exit status 2.
#include <gtest/gtest.h>

#include <unistd.h>  // getpid

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/init.hpp"
#include "core/scaling_model.hpp"
#include "io/json_text.hpp"
#include "io/model_file.hpp"
#include "launch/network_calibration.hpp"
#include "launch/options.hpp"  // parse_name_list
#include "tests/run_command.hpp"

namespace sinapsis {
namespace {

namespace fs = std::filesystem;
using test::CommandResult;
using test::run_sinapsis;

// The wide net at 256 per rank, 2 ranks per node, on a 10 Gb/s link with
// 20 us latency, at 50 GFLOP/s and 10 GB/s: no measurement, so the numbers
// are the model's.
const std::string kPlan =
    "plan --inputs 784 --hidden 1024,1024 --outputs 10 --batch-per-rank 256 --ranks 1,2,4,...,64 "
    "--ranks-per-node 2 --link 10gbit --latency 20us --gflops 50 --memory-gbs 10 --threads 1";
const Link kPlanLink{20e-6, 8 / 10e9, 3 / 10e9};  // gamma: 3 bytes streamed per byte summed, at --memory-gbs

std::vector<PlanRow> model_rows(const PlanSpec& spec, const Link& link, std::vector<std::size_t> ranks) {
  Cluster cluster;
  cluster.ranks_per_node = 2;
  cluster.network = link;
  return plan_rows(spec, ranks, cluster, {gemm_at_gflops(50), 10e9, {}});
}
PlanSpec wide_spec(OverlapMode overlap) {
  return {Architecture::mlp(784, std::vector<std::size_t>{1024, 1024}, Activation::relu, 10, Activation::linear), 256,
          GradPrecision::fp32, overlap, 262144, false};
}

struct Csv {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  double number(std::size_t row, const std::string& column) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == column) return std::stod(rows.at(row).at(c));
    ADD_FAILURE() << "no column " << column;
    return 0;
  }
  std::string text(std::size_t row, const std::string& column) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == column) return rows.at(row).at(c);
    ADD_FAILURE() << "no column " << column;
    return "";
  }
};
Csv parse_csv(const std::string& text) {
  Csv csv;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  csv.columns = cli::parse_name_list(line);
  while (std::getline(lines, line)) {
    csv.rows.push_back(cli::parse_name_list(line));
    EXPECT_EQ(csv.rows.back().size(), csv.columns.size()) << line;
  }
  return csv;
}

void expect_close(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, 1e-8 * std::abs(expected)) << what;
}

class PlanCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sinapsis_plan_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Must succeed; returns its output.
  static std::string run(const std::string& arguments) {
    const CommandResult r = run_sinapsis(arguments);
    EXPECT_EQ(r.status, 0) << arguments << "\n" << r.output;
    return r.output;
  }
  // Must fail with status 2 and one line naming `option`.
  static void expect_refused(const std::string& arguments, const std::string& fragment) {
    const CommandResult r = run_sinapsis(arguments);
    EXPECT_EQ(r.status, 2) << arguments << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << arguments << "\n" << r.output;
    EXPECT_EQ(r.output.rfind("sinapsis plan: error: ", 0), 0u) << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << "'" << fragment << "' missing: " << r.output;
  }

  fs::path dir_;
};

TEST_F(PlanCli, CsvIsTheModelsPlan) {
  const Csv csv = parse_csv(run(kPlan + " --overlap off --format csv"));
  const std::vector<std::size_t> ranks = {1, 2, 4, 8, 16, 32, 64};
  const std::vector<PlanRow> expected = model_rows(wide_spec(OverlapMode::off), kPlanLink, ranks);
  ASSERT_EQ(csv.rows.size(), ranks.size());
  for (const char* column : {"ranks", "step_seconds", "compute_seconds", "comm_seconds", "samples_per_second",
                             "efficiency", "speedup", "nodes", "comm_total_seconds", "min_batch_per_rank_90"})
    EXPECT_NE(std::find(csv.columns.begin(), csv.columns.end(), column), csv.columns.end()) << column;
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const PlanRow& e = expected[i];
    EXPECT_EQ(csv.number(i, "ranks"), double(ranks[i]));
    EXPECT_EQ(csv.number(i, "nodes"), double((ranks[i] + 1) / 2));
    expect_close(csv.number(i, "step_seconds"), e.step.step_seconds, "step " + std::to_string(ranks[i]));
    expect_close(csv.number(i, "compute_seconds"), e.step.compute_seconds, "compute");
    expect_close(csv.number(i, "comm_seconds"), e.step.exposed_comm_seconds, "comm");
    expect_close(csv.number(i, "efficiency"), e.efficiency, "efficiency");
    expect_close(csv.number(i, "efficiency"), csv.number(i, "speedup") / double(ranks[i]), "speedup / ranks");
    expect_close(csv.number(i, "samples_per_second"), double(ranks[i]) * 256 / csv.number(i, "step_seconds"), "rate");
    EXPECT_EQ(csv.text(i, "min_batch_per_rank_90"),
              e.min_batch_per_rank ? std::to_string(*e.min_batch_per_rank) : std::string("none"));
    // Fused: the exchange adds to compute whole.
    expect_close(csv.number(i, "step_seconds"), csv.number(i, "compute_seconds") + csv.number(i, "comm_seconds"), "sum");
  }
  EXPECT_EQ(csv.number(0, "efficiency"), 1);
  EXPECT_EQ(csv.number(0, "comm_seconds"), 0);
  EXPECT_EQ(csv.text(6, "exchange"), "rabenseifner");
}

TEST_F(PlanCli, TableAndJsonSayTheSame) {
  const std::string table = run(kPlan + " --overlap off");
  EXPECT_NE(table.find("GEMM 50.0 GFLOP/s given, memory 10.0 GB/s given"), std::string::npos) << table;
  EXPECT_NE(table.find("link: --link 10gbit --latency 20us: alpha 20.00 us, beta 0.8000 ns/byte"), std::string::npos) << table;
  EXPECT_NE(table.find("exchange at 64 ranks (32 node(s)): rabenseifner"), std::string::npos) << table;
  EXPECT_NE(table.find("efficiency"), std::string::npos) << table;

  const JsonDocument plan = read_json(run(kPlan + " --overlap off --format json"), "plan json");
  const nlohmann::ordered_json& json = plan.value();
  ASSERT_TRUE(json.contains("format"));
  EXPECT_EQ(json.at("format"), "sinapsis-plan");
  EXPECT_EQ(json.at("inputs").at("network").get<std::string>().rfind("784-1024-1024-10", 0), 0u);
  EXPECT_EQ(json.at("calibration").at("gemm_gflops"), 50);
  const auto& rows = json.at("rows");
  const Csv csv = parse_csv(run(kPlan + " --overlap off --format csv"));
  ASSERT_EQ(rows.size(), csv.rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].at("ranks").get<double>(), csv.number(i, "ranks"));
    expect_close(rows[i].at("step_seconds").get<double>(), csv.number(i, "step_seconds"), "json step");
    expect_close(rows[i].at("efficiency").get<double>(), csv.number(i, "efficiency"), "json efficiency");
    // Each table row shows the same step in milliseconds.
    std::ostringstream ms;
    ms << std::fixed;
    ms.precision(3);
    ms << rows[i].at("step_seconds").get<double>() * 1e3;
    EXPECT_NE(table.find(ms.str()), std::string::npos) << ms.str() << "\n" << table;
  }
}

TEST_F(PlanCli, OverlapAndBf16AreThePlansOfTheTrainersOptions) {
  const Csv on = parse_csv(run(kPlan + " --overlap on --format csv"));
  const Csv off = parse_csv(run(kPlan + " --overlap off --format csv"));
  const Csv bf16 = parse_csv(run(kPlan + " --overlap off --grad-precision bf16 --format csv"));
  for (std::size_t i = 1; i < on.rows.size(); ++i) {
    EXPECT_EQ(on.text(i, "overlap"), "on");
    const double compute = on.number(i, "compute_seconds"), total = on.number(i, "comm_total_seconds");
    EXPECT_LE(on.number(i, "step_seconds"), compute + total * (1 + 1e-9));
    EXPECT_GE(on.number(i, "step_seconds"), std::max(compute, total) * (1 - 1e-9));
    EXPECT_DOUBLE_EQ(bf16.number(i, "bytes_per_step"), off.number(i, "bytes_per_step") / 2);
    EXPECT_EQ(bf16.text(i, "exchange"), "alltoallv+allgatherv");
  }
}

// Whether the exchange thread has a core of its own, and the BLAS threads
// per rank by default, come from --cores-per-node, not from the host that
// runs plan: 8 ranks of 1 thread need 16 cores for --overlap auto to turn
// on once they span nodes.
TEST_F(PlanCli, CoresPerNodeDecidesTheExchangeThreadsCore) {
  const std::string plan =
      "plan --inputs 784 --hidden 1024,1024 --outputs 10 --batch-per-rank 256 --ranks 1,8,16,32 --ranks-per-node 8 "
      "--threads 1 --overlap auto --link 10gbit --latency 20us --gflops 50 --memory-gbs 10 ";
  const Csv roomy = parse_csv(run(plan + "--cores-per-node 16 --format csv"));
  const Csv tight = parse_csv(run(plan + "--cores-per-node 8 --format csv"));
  ASSERT_EQ(roomy.rows.size(), 4u);
  ASSERT_EQ(tight.rows.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const bool spans_nodes = roomy.number(i, "nodes") >= 2;
    EXPECT_EQ(roomy.text(i, "overlap"), spans_nodes ? "on" : "off") << roomy.text(i, "ranks");
    EXPECT_EQ(tight.text(i, "overlap"), "off") << tight.text(i, "ranks");
  }
  EXPECT_EQ(roomy.number(3, "nodes"), 4);
  const std::string table = run(plan + "--cores-per-node 16");
  EXPECT_NE(table.find("node: 16 cores (--cores-per-node), 8 rank(s) of 1 BLAS thread(s): the exchange thread has a "
                       "core of its own"),
            std::string::npos)
      << table;
  EXPECT_NE(run(plan).find("cores (this host's usable CPUs; --cores-per-node for the cluster's)"), std::string::npos);
  // Without --threads: the node's cores shared by its ranks, at least 1.
  const std::string shape = "plan --inputs 20 --outputs 3 --ranks 1,8 --gflops 10 --memory-gbs 10 --format json ";
  const auto blas_threads = [&](const std::string& node) {
    return read_json(run(shape + node), "json").value().at("calibration").at("blas_threads").get<int>();
  };
  EXPECT_EQ(blas_threads("--cores-per-node 32 --ranks-per-node 4"), 8);
  EXPECT_EQ(blas_threads("--cores-per-node 2 --ranks-per-node 4"), 1);
}

TEST_F(PlanCli, CalibrationFileGivesTheLink) {
  cli::NetworkCalibration calibration;
  calibration.ranks = 2;
  calibration.hosts = 2;
  calibration.ranks_per_node = 1;
  calibration.transport = "tcp";
  calibration.link = {31e-6, 0.87e-9, 0.1e-9};
  calibration.samples = {{1024, 5e-5}};
  cli::write_network_calibration(path("calib.json"), calibration);
  const Csv csv = parse_csv(run("plan --inputs 784 --hidden 1024,1024 --outputs 10 --batch-per-rank 256 --ranks 1,2,4 "
                                "--ranks-per-node 2 --gflops 50 --memory-gbs 10 --threads 1 --overlap off --format csv "
                                "--network " + path("calib.json")));
  const auto expected = model_rows(wide_spec(OverlapMode::off), calibration.link, {1, 2, 4});
  ASSERT_EQ(csv.rows.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) expect_close(csv.number(i, "step_seconds"), expected[i].step.step_seconds, "step");
}

TEST_F(PlanCli, ModelAndDataFilesGiveTheShape) {
  Model<float> model(Architecture::mlp(5, std::vector<std::size_t>{7}, Activation::tanh, 3, Activation::softmax));
  initialize(model, Initializer::glorot, 1);
  write_model_file(path("model.h5"), model, Loss::categorical_cross_entropy, "");
  const JsonDocument from_model =
      read_json(run("plan --model " + path("model.h5") + " --ranks 1,2 --gflops 10 --memory-gbs 10 --format json"), "json");
  EXPECT_EQ(from_model.value().at("inputs").at("network").get<std::string>().rfind("5-7-3 ", 0), 0u);
  EXPECT_EQ(from_model.value().at("inputs").at("parameters"), 5 * 7 + 7 + 7 * 3 + 3);

  run("data make --dataset circle --samples 50 --out " + path("circle.h5"));
  const JsonDocument from_data = read_json(
      run("plan --data " + path("circle.h5") + " --hidden 4 --ranks 1,2 --gflops 10 --memory-gbs 10 --format json"), "json");
  EXPECT_EQ(from_data.value().at("inputs").at("network").get<std::string>().rfind("2-4-2 ", 0), 0u);
}

TEST_F(PlanCli, OutWritesTheFileAtomically) {
  const std::string out = run(kPlan + " --format csv --out " + path("plan.csv"));
  EXPECT_NE(out.find("wrote " + path("plan.csv")), std::string::npos) << out;
  std::ifstream in(path("plan.csv"));
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("ranks,nodes,", 0), 0u) << header;
}

TEST_F(PlanCli, MeasuresThisHostWithoutGflops) {
  const std::string table = run("plan --inputs 20 --hidden 16 --outputs 3 --batch-per-rank 32 --ranks 1,2");
  EXPECT_NE(table.find("GFLOP/s measured on this host"), std::string::npos) << table;
  EXPECT_NE(table.find("GB/s measured"), std::string::npos) << table;
  EXPECT_NE(table.find("link: --link 25gbit --latency 5us"), std::string::npos) << table;  // the defaults
  // One rank per node (the default): the trainer's step timed alone only.
  EXPECT_NE(table.find("trainer step measured: "), std::string::npos) << table;
  EXPECT_NE(table.find(" ms alone ("), std::string::npos) << table;
  EXPECT_EQ(table.find("at once"), std::string::npos) << table;
}

// The trainer's step is timed alone for one rank and with min(p, N) trainers
// at once for p ranks; the CSV's compute is the measured mean (1 rank) and
// its step holds the wait for the slowest rank.
TEST_F(PlanCli, TimesTheTrainersStepTogetherForSeveralRanks) {
  const std::string shape = "plan --inputs 30 --hidden 24,12 --outputs 4 --batch-per-rank 64 --threads 1 ";
  const std::string table = run(shape + "--ranks 1,2,4 --timed-together 2");
  EXPECT_NE(table.find(" ms alone ("), std::string::npos) << table;
  EXPECT_NE(table.find(" ms with 2 at once ("), std::string::npos) << table;
  EXPECT_EQ(table.find("with 4 at once"), std::string::npos) << table;  // at most --timed-together
  const std::string json = run(shape + "--ranks 1,2 --timed-together 2 --format json");
  const JsonDocument plan = read_json(json, "plan json");
  const auto& steps = plan.value().at("calibration").at("trainer_steps");
  EXPECT_TRUE(std::any_of(steps.begin(), steps.end(), [](const auto& s) { return s.at("together") == 2; })) << json;
  const Csv csv = parse_csv(run(shape + "--ranks 1,2 --timed-together 2 --format csv"));
  ASSERT_EQ(csv.rows.size(), 2u);
  EXPECT_EQ(csv.number(0, "wait_seconds"), 0);
  EXPECT_GE(csv.number(1, "wait_seconds"), 0);
  EXPECT_GT(csv.number(0, "compute_seconds"), 0);
  expect_close(csv.number(1, "step_seconds"),
               csv.number(1, "compute_seconds") + csv.number(1, "comm_seconds"), "fused: compute + exposed");
  EXPECT_GE(csv.number(1, "comm_seconds"), csv.number(1, "wait_seconds"));
  // Given rates measure nothing: no trainer line, no wait.
  const std::string given = run(shape + "--ranks 1,2 --gflops 10 --memory-gbs 10");
  EXPECT_EQ(given.find("trainer step measured"), std::string::npos) << given;
  EXPECT_EQ(parse_csv(run(shape + "--ranks 1,2 --gflops 10 --memory-gbs 10 --format csv")).number(1, "wait_seconds"), 0);
}

TEST_F(PlanCli, BadInputsAreOneLineNamingTheOption) {
  const std::string shape = "plan --inputs 4 --outputs 2 --gflops 10 --memory-gbs 10 ";
  expect_refused(shape + "--link 25gbps", "--link: '25gbps': unknown unit 'gbps'");
  expect_refused(shape + "--link fast", "--link: 'fast'");
  expect_refused(shape + "--link 0gbit", "--link: '0gbit'");
  expect_refused(shape + "--latency 5", "--latency: '5': unknown unit ''");
  expect_refused(shape + "--latency 5min", "--latency: '5min'");
  expect_refused(shape + "--ranks 0,1", "--ranks: '0,1'");
  expect_refused(shape + "--ranks 4,2", "--ranks: '4,2' must increase strictly");
  expect_refused(shape + "--ranks 2,2", "--ranks: '2,2' must increase strictly");
  expect_refused(shape + "--ranks 1,2,4,...,1000", "1000 is not a term");
  expect_refused(shape + "--ranks 1,2,5,...,100", "neither a geometric nor an arithmetic series");
  expect_refused(shape + "--ranks 1,...,8", "'...' needs two terms before it");
  expect_refused(shape + "--ranks 1,2,...", "'...' needs two terms before it");
  expect_refused(shape + "--ranks 1,2,...,100000", "more than 4095 rank counts");
  expect_refused(shape + "--format xml", "--format: unknown format 'xml'");
  expect_refused(shape + "--overlap maybe", "--overlap: unknown value 'maybe'");
  expect_refused(shape + "--grad-precision fp8", "--grad-precision");
  expect_refused(shape + "--momentum 1", "--momentum");
  expect_refused(shape + "--timed-together -1", "--timed-together");
  expect_refused(shape + "--timed-together 5000", "--timed-together");
  // Measuring (no --gflops): trainers of 40 M rows of 784 floats would need > 250 GB.
  expect_refused("plan --inputs 784 --outputs 10 --batch-per-rank 40000000 --ranks 1 --threads 1",
                 "--batch-per-rank: '40000000': timing 1 trainer(s) at once on this host (give --gflops instead) needs");
  expect_refused("plan --inputs 4 --gflops 10", "give the network");
  expect_refused("plan --model m.h5 --inputs 4 --outputs 2", "--model gives the whole network");

  cli::NetworkCalibration calibration;
  calibration.ranks = calibration.hosts = calibration.ranks_per_node = 1;
  cli::write_network_calibration(path("calib.json"), calibration);
  expect_refused(shape + "--network " + path("calib.json") + " --link 1gbit", "--network: " + path("calib.json") +
                                                                                  " gives the link: drop --link");
  std::ifstream in(path("calib.json"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("\"version\": 1"), 12, "\"version\": 7");
  std::ofstream(path("v7.json")) << text;
  expect_refused(shape + "--network " + path("v7.json"), "--network: " + path("v7.json") + ": version 7");
}

// report draws a saved plan, CSV or JSON, beside it (FILE-report/), and
// refuses a file that is not a plan in one line naming the file and line.
TEST_F(PlanCli, ReportDrawsAPlanFile) {
  for (const std::string format : {"csv", "json"}) {
    const std::string file = path("plan." + format);
    run(kPlan + " --format " + format + " --out " + file);
    const std::string out = run("report " + file);
    const fs::path page = dir_ / "plan-report" / "index.html";
    EXPECT_NE(out.find("wrote " + page.string()), std::string::npos) << out;
    std::ifstream in(page);
    const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(html.find("<img src=\"efficiency.png\""), std::string::npos) << html;
    EXPECT_NE(html.find("<img src=\"throughput.png\""), std::string::npos) << html;
    EXPECT_GT(fs::file_size(dir_ / "plan-report" / "efficiency.png"), 1000u);
    EXPECT_NE(html.find("efficiency"), std::string::npos);  // the plan itself, on the page
    fs::remove_all(dir_ / "plan-report");
  }
  std::ofstream(path("bad.csv")) << "ranks,efficiency,samples_per_second\n1,1,100\n2,x,150\n";
  CommandResult r = run_sinapsis("report " + path("bad.csv"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_EQ(r.output, "sinapsis report: error: " + path("bad.csv") + " line 3: efficiency 'x' is not a number\n");
  std::ofstream(path("down.csv")) << "ranks,efficiency,samples_per_second\n4,1,100\n2,0.5,150\n";
  r = run_sinapsis("report " + path("down.csv"));
  EXPECT_NE(r.output.find("line 3: ranks 2 after 4"), std::string::npos) << r.output;
  std::ofstream(path("other.json")) << "{\"format\": \"sinapsis-network-calibration\"}\n";
  r = run_sinapsis("report " + path("other.json"));
  EXPECT_NE(r.output.find(path("other.json") + " line 1: not a plan"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "bad-report") || fs::exists(dir_ / "down-report") || fs::exists(dir_ / "other-report"));
}

}  // namespace
}  // namespace sinapsis
