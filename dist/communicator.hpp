// The transport between ranks, behind a small interface: nothing outside
// dist/ calls MPI. Two implementations: MpiCommunicator (Open MPI) and
// SingleProcess (one rank; every collective is the identity), so most of the
// library and its tests need no mpirun.
//
// Typed wrappers take spans: the element count and type always come from the
// span, never from a hand-written byte count.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "core/half.hpp"  // GradPrecision

namespace sinapsis {

enum class ReduceOp { sum, max, min };

// How a job watches for ranks that stall (dist/stall_watch.hpp says how it
// works). Each command sets it as it goes: a setup phase (reading data may
// keep ranks waiting long), then training.
struct StallOptions {
  double timeout_seconds = 0;  // 0: automatic (StallPolicy)
  bool training = false;
  // With --time-limit: a rank still waiting in a collective at this moment
  // ends the job, naming the ranks that kept it waiting.
  std::optional<std::chrono::steady_clock::time_point> hard_deadline;
  std::string error_prefix = "sinapsis: error: ";  // of the one line printed
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string host() const = 0;

  // Element-wise reduction of `values` across ranks, in place, on every rank.
  template <class T>
  void allreduce(std::span<T> values, ReduceOp op) {
    allreduce_raw(values.data(), values.size(), type_of<T>(), op);
  }
  // The same sum, started as a nonblocking collective and waited for by
  // testing it every `poll` and sleeping in between: the calling thread
  // leaves its core to others (compute, the kernel's network processing)
  // while the exchange goes on, where a blocking call would spin.
  template <class T>
  void allreduce_polled(std::span<T> values, ReduceOp op, std::chrono::microseconds poll) {
    allreduce_polled_raw(values.data(), values.size(), type_of<T>(), op, poll);
  }
  // Rank `root`'s values, on every rank.
  template <class T>
  void broadcast(std::span<T> values, int root) {
    broadcast_raw(values.data(), values.size(), type_of<T>(), root);
  }
  // Convenience scalars.
  template <class T>
  T allreduce(T value, ReduceOp op) {
    allreduce(std::span<T>(&value, 1), op);
    return value;
  }
  // The element-wise sum of `values` over the ranks, in place, on every
  // rank, with 16-bit values on the wire (core/half.hpp): half the bytes of
  // the fp32 sum. GradPrecision::fp32 is allreduce(values, ReduceOp::sum).
  //
  // How (bf16, fp16), for p ranks: every rank rounds its values to 16 bits.
  // Rank r owns a contiguous chunk of the elements (balanced: the first
  // count % p ranks own one more) and receives every rank's 16-bit part of
  // it (MPI_Alltoallv). It adds the p contributions in fp32 in rank order,
  // ((x_0 + x_1) + x_2) + ..., and rounds each sum once to 16 bits. The
  // chunks are gathered on every rank (MPI_Allgatherv) and widened to float.
  // So the result is the same bits on every rank, and from run to run.
  //
  // Error: with u and eta of one rounding (bf16: u = 2^-8, eta = 2^-134;
  // fp16: u = 2^-11, eta = 2^-25), s = sum_r x_r, A = sum_r |x_r| and
  // gamma = (p-1) 2^-24 / (1 - (p-1) 2^-24) (the fp32 additions),
  //   |result - s| <= (2u + u^2 + (1+u)^2 gamma) A + (p (1+u)(1+gamma) + 1) eta,
  // about 2u A: one rounding of the inputs and one of the sum. It is
  // relative to A, not to |s|: where the ranks' values cancel, the relative
  // error of the sum can be large.
  //
  // Overflow (fp16): a value of magnitude >= 65520 (past 65504) on any rank,
  // or a sum that rounds past 65504, is +-Inf in the result on every rank; a
  // NaN anywhere stays NaN. The caller detects overflow by looking for
  // non-finite values in the result: every rank sees the same bits, so every
  // rank decides alike (e.g. to skip the step and lower the loss scale)
  // without another collective.
  //
  // One rank (SingleProcess, or an MPI communicator of size 1): nothing
  // crosses a wire, so nothing is rounded: `values` stay as they are, as for
  // allreduce. Collective: every rank passes the same count and precision.
  // One thread at a time per communicator: it reuses scratch buffers (they
  // grow to the largest count seen, then calls allocate nothing). Throws
  // ModelError for more than INT_MAX values (the count of one MPI call).
  // With `poll` > 0 its collectives are nonblocking calls waited for as in
  // allreduce_polled() (the background exchange's way; same bits).
  void sum_compressed(std::span<float> values, GradPrecision precision,
                      std::chrono::microseconds poll = std::chrono::microseconds(0));

  // Every rank's string, in rank order, on every rank.
  std::vector<std::string> allgather(const std::string& text);
  // Rank `root`'s string, on every rank.
  std::string broadcast(const std::string& text, int root);

  // Collective: the ranks that pass the same `color` form a new
  // communicator (ranks ordered as here), e.g. the groups of a sweep.
  virtual std::unique_ptr<Communicator> split(int color) = 0;

  // Ends every rank at once with `status` (for failures that leave ranks
  // unable to meet at a collective).
  [[noreturn]] virtual void abort(int status) = 0;

  // May a thread other than the one that created MPI's communicators make
  // this communicator's calls, one thread at a time (MPI granted at least
  // MPI_THREAD_SERIALIZED)? What a background exchange needs.
  virtual bool background_calls_allowed() const { return true; }

  // Sets how this process watches its collectives (on every communicator of
  // the job) for stalled peers from now on. One rank alone has none.
  virtual void watch_stalls(const StallOptions& options) { (void)options; }

 protected:
  enum class Type { int32, int64, uint64, float32, float64, byte };
  template <class T>
  static constexpr Type type_of();
  virtual void allreduce_raw(void* data, std::size_t count, Type type, ReduceOp op) = 0;
  virtual void allreduce_polled_raw(void* data, std::size_t count, Type type, ReduceOp op,
                                    std::chrono::microseconds poll) {
    (void)poll;
    allreduce_raw(data, count, type, op);
  }
  virtual void broadcast_raw(void* data, std::size_t count, Type type, int root) = 0;
  virtual void allgather_raw(const void* mine, std::size_t count_per_rank, Type type, void* all) = 0;
  // sum_compressed with bf16 or fp16, on more than one rank.
  virtual void sum_16_bits(std::span<float> values, GradPrecision precision, std::chrono::microseconds poll) = 0;
};

template <class T>
constexpr Communicator::Type Communicator::type_of() {
  if constexpr (std::is_same_v<T, std::int32_t>) return Type::int32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return Type::int64;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return Type::uint64;
  else if constexpr (std::is_same_v<T, float>) return Type::float32;
  else if constexpr (std::is_same_v<T, double>) return Type::float64;
  else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, unsigned char>) return Type::byte;
  else static_assert(sizeof(T) == 0, "no MPI type for this element type");
}

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string host() const override;
  std::unique_ptr<Communicator> split(int) override { return std::make_unique<SingleProcess>(); }
  [[noreturn]] void abort(int status) override;

 protected:
  void allreduce_raw(void*, std::size_t, Type, ReduceOp) override {}
  void broadcast_raw(void*, std::size_t, Type, int) override {}
  void allgather_raw(const void* mine, std::size_t count, Type type, void* all) override;
  void sum_16_bits(std::span<float>, GradPrecision, std::chrono::microseconds) override {}  // never called: one rank
};

// How ranks wait for each other inside MPI. Open MPI spins by default; over
// TCP between hosts a spinning rank takes the core that the kernel's network
// processing and the rank's own compute need (measured: the medium net 12.7x
// slower on 2 emulated hosts). So when the launcher placed the ranks on more
// than one host and the user has not chosen, sinapsis sets Open MPI's
// mpi_yield_when_idle before MPI starts. On one host (shared memory, a core
// per rank) spinning is the faster wait and is left alone.
struct WaitSettings {
  bool spans_hosts = false;      // the launcher's environment says more than one host
  bool yields = false;           // mpi_yield_when_idle is in force (1)
  bool set_by_sinapsis = false;  // ... because sinapsis set it
  bool user_chose = false;       // OMPI_MCA_mpi_yield_when_idle was given (mpirun --mca, -x, the environment)
  bool tcp = true;               // the transports allowed may include TCP (OMPI_MCA_btl unset or naming tcp)
  // Started by Open MPI's mpirun (not srun): mpirun notices a host that
  // drops off the network (no FIN, no RST) only by TCP keepalive on its
  // control connection, after this many seconds (oob_tcp_keepalive_time +
  // _intvl x _probes, Open MPI's defaults 300 + 20 x 9 unless given). The
  // ranks end sooner by themselves (the stall watchdog), but mpirun waits.
  bool mpirun = false;
  double lost_host_seconds = 0;
};
// Pure: the settings for an environment (`variable(name)` returns the value
// or null). Reads OMPI_COMM_WORLD_SIZE / OMPI_COMM_WORLD_LOCAL_SIZE (mpirun),
// SLURM_STEP_NUM_NODES / SLURM_NNODES (srun), OMPI_MCA_mpi_yield_when_idle,
// OMPI_MCA_btl, OMPI_MCA_orte_hnp_uri and OMPI_MCA_oob_tcp_keepalive_*.
WaitSettings wait_settings_for(const std::function<const char*(const char*)>& variable);
// This process's, as make_communicator() settled them.
const WaitSettings& wait_settings();
// Reads this process's environment into wait_settings() and sets
// mpi_yield_when_idle as described; make_communicator() calls it before
// MPI starts.
void settle_wait_settings();

// The communicator for this process: MPI when launched by mpirun/srun (or
// when `force_mpi`), otherwise SingleProcess. Initializes MPI on first use;
// MPI is finalized when the returned object is destroyed.
std::unique_ptr<Communicator> make_communicator();

// Launched by an MPI launcher (mpirun/mpiexec of Open MPI, or srun with PMIx)?
bool under_mpi_launcher();

// The MPI library this build links, e.g. "Open MPI v4.1.4".
std::string mpi_library_version();

}  // namespace sinapsis
