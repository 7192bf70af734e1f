// The sinapsis executable: dispatches to a subcommand and turns any error
// into one line on stderr and an exit status (2 usage, 1 runtime failure;
// 75 from train, stopped after a checkpoint).
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <optional>
#include <string>

#include "core/blas_runtime.hpp"
#include "core/error.hpp"
#include "dist/communicator.hpp"
#include "launch/agreement.hpp"
#include "launch/commands.hpp"
#include "launch/stop_signals.hpp"
#include "launch/versions.hpp"

namespace {

using Command = int (*)(const sinapsis::cli::Args&, sinapsis::Communicator&);

const std::map<std::string, std::pair<Command, const char*>>& commands() {
  static const std::map<std::string, std::pair<Command, const char*>> table{
      {"train", {sinapsis::cli::train_command, "train a network on a data file"}},
      {"sweep", {sinapsis::cli::sweep_command, "train a grid of networks across the ranks (ASHA pruning); sweep merge"}},
      {"predict", {sinapsis::cli::predict_command, "write a model's outputs for every sample"}},
      {"eval", {sinapsis::cli::eval_command, "print a model's loss and accuracy on a data file"}},
      {"report", {sinapsis::cli::report_command, "write an HTML report with plots of a run or a sweep"}},
      {"info", {sinapsis::cli::info_command, "show ranks, hosts, cores and BLAS threads per rank, kernel and speed"}},
      {"data", {sinapsis::cli::data_command, "make (Playground), shard, import (idx, csv) or inspect data files"}},
      {"plan", {sinapsis::cli::plan_command, "predict step time, speed-up and efficiency of a network on 1..N ranks"}},
  };
  return table;
}

void print_usage(std::ostream& out) {
  out << "usage: sinapsis COMMAND [options]   (sinapsis COMMAND --help for its options)\n\ncommands:\n";
  for (const auto& [name, entry] : commands()) out << "  " << name << std::string(10 - name.size(), ' ') << entry.second << "\n";
  out << "\n  --version  sinapsis, MPI, BLAS (with its kernel) and HDF5 versions\n"
      << "\nexit status: 0 success, 1 runtime failure, 2 usage error,\n"
      << "             75 stopped by a signal or --time-limit after a checkpoint (resume me)\n";
}

// One error line in ONE write: under mpirun, output is forwarded in the
// pieces it was written in, and mpirun's own banner may land between them.
void print_error(const std::string& line) {
  std::cout.flush();
  std::cerr << line + "\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  sinapsis::ensure_fast_blas_kernel(argv);
  if (argc < 2) {
    print_usage(std::cerr);
    return sinapsis::cli::kExitUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return sinapsis::cli::kExitSuccess;
  }
  if (name == "--version") {
    std::cout << sinapsis::cli::version_text() << std::endl;
    return sinapsis::cli::kExitSuccess;
  }
  const auto found = commands().find(name);
  if (found == commands().end()) {
    std::cerr << "sinapsis: unknown command '" << name << "' (try sinapsis --help)" << std::endl;
    return sinapsis::cli::kExitUsage;
  }
  const std::string prefix = "sinapsis " + name + ": error: ";
  // train and sweep stop cleanly on SIGTERM/SIGUSR1 (a checkpoint, exit 75):
  // catch them from the start, before MPI starts up, so that a signal in
  // the first second is not fatal. The commands' own StopSignals share it.
  std::optional<sinapsis::cli::StopSignals> signals;
  if (name == "train" || name == "sweep") signals.emplace();
  std::unique_ptr<sinapsis::Communicator> comm;
  try {
    comm = sinapsis::make_communicator();
  } catch (const std::exception& e) {
    print_error(prefix + "cannot start MPI: " + e.what());
    return sinapsis::cli::kExitFailure;
  }
  // train, sweep and info work across ranks; the others run once, on rank 0.
  if (name != "train" && name != "sweep" && name != "info" && comm->rank() != 0) return sinapsis::cli::kExitSuccess;
  const bool first = comm->rank() == 0;
  try {
    return found->second.first(sinapsis::cli::Args(argv + 2, argv + argc), *comm);
  } catch (const sinapsis::cli::AgreedFailure& e) {
    if (first) print_error(prefix + e.what());
    return e.status;
  } catch (const sinapsis::UsageError& e) {  // options: the same on every rank
    if (first) print_error(prefix + e.what());
    return sinapsis::cli::kExitUsage;
  } catch (const std::exception& e) {
    // Sizes that options and files claim are checked before allocating;
    // should an allocation still fail, say what it means, not what the
    // library calls it.
    const bool memory = dynamic_cast<const std::bad_alloc*>(&e) || dynamic_cast<const std::length_error*>(&e);
    const std::string what = memory ? "out of memory: this host cannot hold what the job asked for (lower --batch, "
                                      "--hidden or the data per rank, or use more ranks)"
                                    : e.what();
    if (comm->size() == 1) {
      print_error(prefix + what);
      return sinapsis::cli::kExitFailure;
    }
    // The other ranks may be waiting in a collective: end them all.
    print_error(prefix + "rank " + std::to_string(comm->rank()) + ": " + what);
    comm->abort(sinapsis::cli::kExitFailure);
  }
}
