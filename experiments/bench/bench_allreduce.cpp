// Cost of sinapsis's gradient sum against a bare MPI_Allreduce (issue 4), and
// with --sweep the latency and per-byte cost of the link as MPI_Allreduce sees
// it (issue 12).
//
//   export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # as root only
//   mpirun -n 2 BUILD/experiments/bench_allreduce [--rounds N] [--scale X]
//   mpirun -n 2 BUILD/experiments/bench_allreduce --sweep [--rounds N] [--budget SECONDS]
//
// --sweep times only the bare MPI_Allreduce (b below), of 1 KiB, 2 KiB, ...
// 8 MiB of floats, and fits t(n) = alpha + beta * n to the median time of
// each size (n in bytes of the buffer), minimizing the relative error, so
// that the small sizes weigh as much as the large ones. alpha is the latency
// of one call; beta the cost per byte of buffer, which for 2 ranks (each
// sends and receives half the buffer twice: reduce-scatter, then allgather)
// is the link's time per byte plus the time to add it. Each size runs as
// many timed calls as fit in --budget seconds (at least 10, at most 2,000,
// the same count on every rank), after 3 untimed ones; each call follows an
// MPI_Barrier and its time is the slowest rank's. Printed on rank 0: per
// size the median over rounds of the round's median, min..max over rounds,
// the bandwidth n / t and the fitted line; then alpha and beta (median over
// rounds of each round's fit, min..max).
//
// With --precision, the compressed sum against the fp32 one (issue 12):
//
//   mpirun -n 2 BUILD/experiments/bench_allreduce --precision bf16,fp16 [--rounds N] [--budget SECONDS]
//
// --precision LIST times Communicator::sum_compressed with each listed
// precision (bf16, fp16, fp32) against the fp32 sum (sum_compressed(fp32),
// i.e. Communicator::allreduce -> MPI_Allreduce), in the same run, on
// buffers of 1 KiB, 2 KiB, ... 8 MiB of floats (the fp32 size of the
// gradient). Per size: 3 untimed calls of each, then as many timed
// iterations as fit in --budget seconds (at least 10, at most 2,000, the
// same count on every rank); an iteration times each precision once, in an
// order that rotates between iterations, each call on a buffer refilled
// (untimed) from the same gradient-like values, after an MPI_Barrier; a
// call's time is the slowest rank's. Printed on rank 0: per size the median
// over rounds of each round's median, and its ratio to fp32's.
//
// For the flat gradient of each benchmark net
//   wide    784-1024-1024-10   1,863,690 floats
//   medium  784-256-128-10       235,146 floats
//   tiny    2-8-8-1                  105 floats
// it times, alternately on one buffer:
//   (a) sinapsis: CommunicatorGroup::sum(std::span<float>), what
//       Trainer::step_batch calls on model.gradients() (RankGroup -> Communicator::
//       allreduce(ReduceOp::sum) -> MPI_Allreduce in place, with an error check);
//   (b) bare:     MPI_Allreduce(MPI_IN_PLACE, ..., MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD).
// Before each timed call the buffer is refilled (untimed) from the same
// pristine copy, so both calls reduce the same values from the same cache
// state (as in training, where backward has just written the gradients), and
// values never grow to Inf. Every timed call follows an MPI_Barrier; the
// order (a, b) / (b, a) alternates between iterations. A call's time is the
// maximum over ranks (a collective is done when its slowest rank is).
//
// Printed on rank 0: per size, medians of (a) and (b), the ratio of the
// medians, the median of the per-iteration ratios a/b, and PASS/FAIL against
// the threshold "sinapsis <= 1.1 x bare". The run repeats everything for
// --rounds rounds and also prints the median over rounds. Exits 0 whatever
// the verdicts (a benchmark, not a test).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/half.hpp"
#include "dist/communicator.hpp"
#include "dist/communicator_group.hpp"

namespace {

struct Size {
  const char* name;
  std::size_t floats;
  int iterations;  // timed iterations per round (each times (a) and (b) once)
};

constexpr Size kSizes[] = {
    {"wide", 1'863'690, 150},
    {"medium", 235'146, 1'000},
    {"tiny", 105, 20'000},
};
constexpr double kThreshold = 1.1;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(mid), v.end());
  double m = v[mid];
  if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), v.begin() + std::ptrdiff_t(mid))) / 2;
  return m;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  std::fprintf(stderr, "bench_allreduce: %s failed (code %d)\n", what, code);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

struct RoundResult {
  double sinapsis = 0, bare = 0, ratio_of_medians = 0, median_ratio = 0;
};

// One round for one size: `iterations` timed pairs after `warmup` untimed pairs.
RoundResult run_round(sinapsis::RankGroup& group, const Size& size, int warmup, int iterations) {
  std::vector<float> pristine(size.floats), buffer(size.floats);
  const int rank = group.rank();
  for (std::size_t i = 0; i < size.floats; ++i)  // gradient-like small values, different per rank
    pristine[i] = 1e-3f * float(int((i * 2654435761u + std::size_t(rank) * 97u) % 2001u) - 1000) / 1000.f;

  std::vector<double> a, b;  // this rank's per-call times
  a.reserve(std::size_t(iterations));
  b.reserve(std::size_t(iterations));
  const auto time_sinapsis = [&] {
    std::memcpy(buffer.data(), pristine.data(), size.floats * sizeof(float));
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    const double t0 = now();
    group.sum(std::span<float>(buffer));
    return now() - t0;
  };
  const auto time_bare = [&] {
    std::memcpy(buffer.data(), pristine.data(), size.floats * sizeof(float));
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    const double t0 = now();
    check(MPI_Allreduce(MPI_IN_PLACE, buffer.data(), int(size.floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
    return now() - t0;
  };
  for (int i = 0; i < warmup + iterations; ++i) {
    double ta, tb;
    if (i % 2 == 0) {
      ta = time_sinapsis();
      tb = time_bare();
    } else {
      tb = time_bare();
      ta = time_sinapsis();
    }
    if (i >= warmup) {
      a.push_back(ta);
      b.push_back(tb);
    }
  }
  // Each call's time: the slowest rank's.
  std::vector<double> amax(a.size()), bmax(b.size());
  check(MPI_Allreduce(a.data(), amax.data(), int(a.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  check(MPI_Allreduce(b.data(), bmax.data(), int(b.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  std::vector<double> ratios(amax.size());
  for (std::size_t i = 0; i < amax.size(); ++i) ratios[i] = amax[i] / bmax[i];
  RoundResult r;
  r.sinapsis = median(amax);
  r.bare = median(bmax);
  r.ratio_of_medians = r.sinapsis / r.bare;
  r.median_ratio = median(ratios);
  return r;
}

std::string fmt_time(double s) {
  char text[32];
  if (s >= 1e-3) std::snprintf(text, sizeof text, "%.3f ms", s * 1e3);
  else std::snprintf(text, sizeof text, "%.2f us", s * 1e6);
  return text;
}


// --sweep: the bare MPI_Allreduce of each size, the line through it.
constexpr std::size_t kSweepMinBytes = 1 << 10, kSweepMaxBytes = 8 << 20;

// Median time of `iterations` bare allreduces of `floats` floats (each the
// slowest rank's); the count is agreed on from the 3 untimed calls.
double sweep_size(std::size_t floats, double budget) {
  std::vector<float> buffer(floats, 1e-3f);
  const auto call = [&] {
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    const double t0 = now();
    check(MPI_Allreduce(MPI_IN_PLACE, buffer.data(), int(floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
    return now() - t0;
  };
  double warm = 0;
  for (int i = 0; i < 3; ++i) warm = std::max(warm, call());
  check(MPI_Allreduce(MPI_IN_PLACE, &warm, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  const int iterations = std::clamp(int(budget / std::max(warm, 1e-7)), 10, 2000);
  const auto count = std::size_t(iterations);
  std::vector<double> mine(count), slowest(count);
  for (double& t : mine) t = call();
  check(MPI_Allreduce(mine.data(), slowest.data(), iterations, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD),
        "MPI_Allreduce");
  return median(slowest);
}

struct Line {
  double alpha = 0, beta = 0;  // seconds, seconds per byte
};

// t = alpha + beta * n through (bytes[i], seconds[i]), least relative squares
// (weights 1 / t^2).
Line fit_line(const std::vector<double>& bytes, const std::vector<double>& seconds) {
  double s = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const double w = 1 / (seconds[i] * seconds[i]);
    s += w;
    sx += w * bytes[i];
    sy += w * seconds[i];
    sxx += w * bytes[i] * bytes[i];
    sxy += w * bytes[i] * seconds[i];
  }
  Line line;
  line.beta = (s * sxy - sx * sy) / (s * sxx - sx * sx);
  line.alpha = (sy - line.beta * sx) / s;
  return line;
}

void run_sweep(int ranks, const std::string& host, bool lead, int rounds, double budget) {
  std::vector<double> bytes;
  for (std::size_t b = kSweepMinBytes; b <= kSweepMaxBytes; b *= 2) bytes.push_back(double(b));
  if (lead) {
    std::printf("bench_allreduce --sweep: %d ranks, rank 0 on %s, %d rounds, %.2f s per size and round\n", ranks,
                host.c_str(), rounds, budget);
    std::printf("bare MPI_Allreduce(MPI_IN_PLACE, MPI_FLOAT, MPI_SUM); time per call = slowest rank's\n\n");
    std::fflush(stdout);
  }
  std::vector<std::vector<double>> times(bytes.size());  // [size][round]
  std::vector<double> alphas, betas;
  for (int r = 0; r < rounds; ++r) {
    std::vector<double> round(bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      round[i] = sweep_size(std::size_t(bytes[i]) / sizeof(float), budget);
      times[i].push_back(round[i]);
    }
    const Line line = fit_line(bytes, round);
    alphas.push_back(line.alpha);
    betas.push_back(line.beta);
    if (lead) {
      std::printf("round %d: alpha %s, beta %.4g ns/byte (%.3f GB/s); 1 KiB %s, 8 MiB %s\n", r + 1,
                  fmt_time(line.alpha).c_str(), line.beta * 1e9, 1e-9 / line.beta, fmt_time(round.front()).c_str(),
                  fmt_time(round.back()).c_str());
      std::fflush(stdout);
    }
  }
  if (!lead) return;
  std::vector<double> medians;
  for (const auto& t : times) medians.push_back(median(t));
  const Line line{median(alphas), median(betas)};
  std::printf("\nmedian over %d rounds\n%10s %12s %25s %10s %12s %8s\n", rounds, "bytes", "time",
              "rounds min..max", "GB/s", "alpha+beta*n", "fit/t");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const double fit = line.alpha + line.beta * bytes[i];
    const auto [lo, hi] = std::minmax_element(times[i].begin(), times[i].end());
    std::printf("%10.0f %12s %12s..%-12s %10.3f %12s %8.2f\n", bytes[i], fmt_time(medians[i]).c_str(),
                fmt_time(*lo).c_str(), fmt_time(*hi).c_str(), bytes[i] / medians[i] * 1e-9, fmt_time(fit).c_str(),
                fit / medians[i]);
  }
  const auto [alo, ahi] = std::minmax_element(alphas.begin(), alphas.end());
  const auto [blo, bhi] = std::minmax_element(betas.begin(), betas.end());
  std::printf("\nalpha %s (rounds %s..%s)\nbeta  %.4g ns/byte (rounds %.4g..%.4g), i.e. %.3f GB/s of buffer\n",
              fmt_time(line.alpha).c_str(), fmt_time(*alo).c_str(), fmt_time(*ahi).c_str(), line.beta * 1e9,
              *blo * 1e9, *bhi * 1e9, 1e-9 / line.beta);
  std::fflush(stdout);
}

// --precision: sum_compressed of each precision, 1 KiB .. 8 MiB of floats.
constexpr std::size_t kPrecisionMinBytes = 1 << 10, kPrecisionMaxBytes = 8 << 20;

// Median time per precision (`columns`) for `floats` values, one round.
std::vector<double> time_precisions(sinapsis::Communicator& comm, const std::vector<sinapsis::GradPrecision>& columns,
                                    std::size_t floats, double budget) {
  std::vector<float> pristine(floats), buffer(floats);
  for (std::size_t i = 0; i < floats; ++i)  // gradient-like small values, different per rank
    pristine[i] = 1e-3f * float(int((i * 2654435761u + std::size_t(comm.rank()) * 97u) % 2001u) - 1000) / 1000.f;
  const auto call = [&](sinapsis::GradPrecision precision) {
    std::memcpy(buffer.data(), pristine.data(), floats * sizeof(float));
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    const double t0 = now();
    comm.sum_compressed(std::span<float>(buffer), precision);
    return now() - t0;
  };
  double warm = 0;  // one iteration of every column, the slowest rank's
  for (int i = 0; i < 3; ++i) {
    double iteration = 0;
    for (const auto precision : columns) iteration += call(precision);
    warm = std::max(warm, iteration);
  }
  check(MPI_Allreduce(MPI_IN_PLACE, &warm, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  const int iterations = std::clamp(int(budget / std::max(warm, 1e-7)), 10, 2000);
  const std::size_t width = columns.size();
  std::vector<double> mine(std::size_t(iterations) * width), slowest(mine.size());  // [iteration][column]
  for (int i = 0; i < iterations; ++i)
    for (std::size_t k = 0; k < width; ++k) {
      const std::size_t column = (std::size_t(i) + k) % width;
      mine[std::size_t(i) * width + column] = call(columns[column]);
    }
  check(MPI_Allreduce(mine.data(), slowest.data(), int(mine.size()), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD),
        "MPI_Allreduce");
  std::vector<double> medians;
  for (std::size_t column = 0; column < width; ++column) {
    std::vector<double> times;
    for (int i = 0; i < iterations; ++i) times.push_back(slowest[std::size_t(i) * width + column]);
    medians.push_back(median(times));
  }
  return medians;
}

void run_precisions(sinapsis::Communicator& comm, std::vector<sinapsis::GradPrecision> columns, int rounds,
                    double budget) {
  // fp32 first: the reference of every ratio.
  std::erase(columns, sinapsis::GradPrecision::fp32);
  columns.insert(columns.begin(), sinapsis::GradPrecision::fp32);
  const bool lead = comm.rank() == 0;
  if (lead) {
    std::printf("bench_allreduce --precision: %d ranks, rank 0 on %s, %d rounds, %.2f s per size and round\n",
                comm.size(), comm.host().c_str(), rounds, budget);
    std::printf("Communicator::sum_compressed; time per call = slowest rank's; fp32 is the plain allreduce\n\n");
    std::fflush(stdout);
  }
  std::vector<std::size_t> sizes;  // bytes of fp32 gradient
  for (std::size_t b = kPrecisionMinBytes; b <= kPrecisionMaxBytes; b *= 2) sizes.push_back(b);
  std::vector<std::vector<std::vector<double>>> times(sizes.size(), std::vector<std::vector<double>>(columns.size()));
  for (int r = 0; r < rounds; ++r)
    for (std::size_t s = 0; s < sizes.size(); ++s) {
      const auto medians = time_precisions(comm, columns, sizes[s] / sizeof(float), budget);
      for (std::size_t c = 0; c < columns.size(); ++c) times[s][c].push_back(medians[c]);
    }
  if (!lead) return;
  std::printf("median over %d rounds\n%10s %10s", rounds, "fp32 bytes", "floats");
  for (const auto precision : columns) {
    std::printf(" %12s", std::string(sinapsis::grad_precision_name(precision)).c_str());
    if (precision != sinapsis::GradPrecision::fp32) std::printf(" %8s", "x fp32");
  }
  std::printf("\n");
  for (std::size_t s = 0; s < sizes.size(); ++s) {
    std::printf("%10zu %10zu", sizes[s], sizes[s] / sizeof(float));
    const double fp32 = median(times[s][0]);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const double t = median(times[s][c]);
      std::printf(" %12s", fmt_time(t).c_str());
      if (c > 0) std::printf(" %8.3f", t / fp32);
    }
    std::printf("\n");
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  double scale = 1;  // multiplies the iteration counts
  bool sweep = false;
  double budget = 0.25;  // --sweep: seconds of timed calls per size and round
  std::vector<sinapsis::GradPrecision> precisions;  // --precision: the columns besides fp32
  const auto usage = [] {
    std::fprintf(stderr,
                 "usage: mpirun -n P bench_allreduce [--rounds N] [--scale X]\n"
                 "       mpirun -n P bench_allreduce --sweep [--rounds N] [--budget SECONDS]\n"
                 "       mpirun -n P bench_allreduce --precision fp32|bf16|fp16[,...] [--rounds N] [--budget SECONDS]\n");
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--scale" && i + 1 < argc) scale = std::max(0.01, std::atof(argv[++i]));
    else if (arg == "--sweep") sweep = true;
    else if (arg == "--budget" && i + 1 < argc) budget = std::max(0.01, std::atof(argv[++i]));
    else if (arg == "--precision" && i + 1 < argc) {
      const std::string list = argv[++i];
      for (std::size_t start = 0; start <= list.size();) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        try {
          precisions.push_back(sinapsis::parse_grad_precision(list.substr(start, comma - start), "--precision"));
        } catch (const sinapsis::UsageError& e) {
          std::fprintf(stderr, "bench_allreduce: %s\n", e.what());
          return 2;
        }
        start = comma + 1;
      }
    } else {
      return usage();
    }
  }
  auto comm = sinapsis::make_communicator();  // MPI under mpirun; initializes it
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    std::fprintf(stderr, "bench_allreduce: run it under mpirun (e.g. mpirun -n 2 %s)\n", argv[0]);
    return 2;
  }
  if (!precisions.empty()) {
    run_precisions(*comm, precisions, rounds, budget);
    return 0;
  }
  sinapsis::CommunicatorGroup group(*comm);
  const bool lead = group.rank() == 0;
  if (sweep) {
    run_sweep(group.size(), comm->host(), lead, rounds, budget);
    return 0;
  }
  if (lead) {
    std::printf("bench_allreduce: %d ranks on %s, %d rounds, iterations x %.2f\n", group.size(),
                comm->host().c_str(), rounds, scale);
    std::printf("time per call = max over ranks; (a) sinapsis CommunicatorGroup::sum, (b) bare MPI_Allreduce\n\n");
    std::fflush(stdout);
  }

  constexpr std::size_t kSizeCount = std::size(kSizes);
  std::vector<std::vector<RoundResult>> results(kSizeCount);
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t s = 0; s < kSizeCount; ++s) {
      const int iterations = std::max(10, int(kSizes[s].iterations * scale));
      const RoundResult res = run_round(group, kSizes[s], std::max(5, iterations / 10), iterations);
      results[s].push_back(res);
      if (lead) {
        std::printf("round %d %-7s %10zu floats  sinapsis %11s  bare %11s  ratio %.3f  (median of ratios %.3f)\n",
                    r + 1, kSizes[s].name, kSizes[s].floats, fmt_time(res.sinapsis).c_str(),
                    fmt_time(res.bare).c_str(), res.ratio_of_medians, res.median_ratio);
        std::fflush(stdout);
      }
    }
  }

  if (lead) {
    std::printf("\nmedian over %d rounds\n", rounds);
    std::printf("%-7s %10s %9s %12s %12s %10s %15s %17s\n", "net", "floats", "MiB", "sinapsis", "bare MPI",
                "ratio", "rounds min..max", "median of ratios");
    for (std::size_t s = 0; s < kSizeCount; ++s) {
      std::vector<double> sa, sb, rm, mr;
      for (const RoundResult& res : results[s]) {
        sa.push_back(res.sinapsis);
        sb.push_back(res.bare);
        rm.push_back(res.ratio_of_medians);
        mr.push_back(res.median_ratio);
      }
      char range[40];
      std::snprintf(range, sizeof range, "%.3f..%.3f", *std::min_element(rm.begin(), rm.end()),
                    *std::max_element(rm.begin(), rm.end()));
      std::printf("%-7s %10zu %9.2f %12s %12s %10.3f %15s %17.3f\n", kSizes[s].name, kSizes[s].floats,
                  double(kSizes[s].floats) * 4 / (1 << 20), fmt_time(median(sa)).c_str(),
                  fmt_time(median(sb)).c_str(), median(rm), range, median(mr));
    }
    std::printf("\nthreshold: gradient sync <= %.1f x bare MPI_Allreduce (median over rounds of the ratio of medians)\n",
                kThreshold);
    for (std::size_t s = 0; s < kSizeCount; ++s) {
      std::vector<double> rm;
      for (const RoundResult& res : results[s]) rm.push_back(res.ratio_of_medians);
      const double v = median(rm);
      std::printf("  %s  %-7s %.3f\n", v <= kThreshold ? "PASS" : "FAIL", kSizes[s].name, v);
    }
    std::fflush(stdout);
  }
  return 0;
}
