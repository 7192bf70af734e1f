// The Open MPI implementation of Communicator, and its stall watchdog. The
// only file that includes mpi.h.
#include <mpi.h>
#include <unistd.h>  // getpid, gethostname, write

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "core/error.hpp"
#include "core/half.hpp"
#include "core/helper_thread.hpp"
#include "dist/communicator.hpp"
#include "dist/mpi_comm.hpp"
#include "dist/stall_watch.hpp"

namespace sinapsis {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Watches this process's blocking collectives for stalled peers, on a
// thread of its own that talks to the other ranks' watchdogs over a
// duplicate of MPI_COMM_WORLD (MPI_THREAD_MULTIPLE). The protocol and the
// decisions are in dist/stall_watch.hpp.
class Watchdog {
 public:
  Watchdog() {
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    int size = 1;
    MPI_Comm_size(comm_, &size);
    // Who every rank is, for the messages.
    std::array<char, kWhoChars> mine{};
    char host[128] = {};
    ::gethostname(host, sizeof host - 1);
    std::snprintf(mine.data(), mine.size(), "pid %d on host %s", int(::getpid()), host);
    std::vector<char> all(kWhoChars * std::size_t(size));
    MPI_Allgather(mine.data(), kWhoChars, MPI_CHAR, all.data(), kWhoChars, MPI_CHAR, comm_);
    for (int r = 0; r < size; ++r) who_.emplace_back(all.data() + std::size_t(r) * kWhoChars);
    left_ = started_ = Clock::now();
    thread_ = helper_thread([this] { run(); });
  }
  ~Watchdog() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
    MPI_Comm_free(&comm_);
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Main thread, in the order every rank calls split(): the same id everywhere.
  std::uint64_t new_comm_id() { return next_comm_id_++; }

  // Main thread, around every blocking collective.
  void enter(std::uint64_t comm, std::uint64_t sequence, const std::vector<int>* members) {
    const auto now = Clock::now();
    const std::lock_guard lock(mutex_);
    longest_interval_ = std::max(longest_interval_, seconds_between(left_, now));
    in_collective_ = true;
    entered_ = now;
    comm_id_ = comm;
    sequence_ = sequence;
    members_ = members;
  }
  void leave() {
    const std::lock_guard lock(mutex_);
    in_collective_ = false;
    left_ = Clock::now();
  }
  void configure(const StallOptions& options) {
    const std::lock_guard lock(mutex_);
    options_ = options;
    policy_ = {options.timeout_seconds, options.training};
    longest_interval_ = 0;  // a new phase: its own intervals
    left_ = Clock::now();
  }

 private:
  static constexpr int kWhoChars = 160;
  static constexpr int kPingTag = 1, kReplyTag = 2;
  // Ping: {check id, communicator, sequence}. Reply: {check id, waiting, communicator, sequence, nanoseconds}.
  using Ping = std::array<std::int64_t, 3>;
  using Reply = std::array<std::int64_t, 5>;

  struct Check {
    std::int64_t id = 0;
    Clock::time_point entered, until;
    std::uint64_t comm = 0, sequence = 0;
    std::vector<int> members;
    double timeout = 0;
    StallCheck kind = StallCheck::timeout;
    std::map<int, PeerAnswer> answers;
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(100));
      if (stop_) break;
      lock.unlock();
      serve_pings();
      watch();
      lock.lock();
    }
  }

  // Answers every pending ping with what the main thread does now.
  void serve_pings() {
    for (;;) {
      int pending = 0;
      MPI_Status status;
      if (MPI_Iprobe(MPI_ANY_SOURCE, kPingTag, comm_, &pending, &status) != MPI_SUCCESS || !pending) return;
      Ping ping{};
      MPI_Recv(ping.data(), int(ping.size()), MPI_INT64_T, status.MPI_SOURCE, kPingTag, comm_, MPI_STATUS_IGNORE);
      Reply reply{};
      {
        const std::lock_guard lock(mutex_);
        const auto now = Clock::now();
        const double seconds = seconds_between(in_collective_ ? entered_ : left_, now);
        reply = {ping[0], in_collective_ ? 1 : 0, std::int64_t(comm_id_), std::int64_t(sequence_),
                 std::int64_t(seconds * 1e9)};
      }
      MPI_Send(reply.data(), int(reply.size()), MPI_INT64_T, status.MPI_SOURCE, kReplyTag, comm_);
    }
  }

  void collect_replies() {
    for (;;) {
      int pending = 0;
      MPI_Status status;
      if (MPI_Iprobe(MPI_ANY_SOURCE, kReplyTag, comm_, &pending, &status) != MPI_SUCCESS || !pending) return;
      Reply reply{};
      MPI_Recv(reply.data(), int(reply.size()), MPI_INT64_T, status.MPI_SOURCE, kReplyTag, comm_, MPI_STATUS_IGNORE);
      if (!check_ || reply[0] != check_->id) continue;  // the answer to a check that is over
      PeerAnswer& a = check_->answers[status.MPI_SOURCE];
      a.answered = true;
      a.waiting = reply[1] != 0;
      a.comm = std::uint64_t(reply[2]);
      a.sequence = std::uint64_t(reply[3]);
      a.seconds = double(reply[4]) / 1e9;
    }
  }

  void watch() {
    const auto now = Clock::now();
    bool in_collective = false;
    Clock::time_point entered;
    double timeout = 0, silence = 0;
    bool deadline = false;
    {
      const std::lock_guard lock(mutex_);
      in_collective = in_collective_;
      entered = entered_;
      timeout = policy_.timeout(longest_interval_);
      silence = policy_.silence_after(timeout);
      deadline = options_.hard_deadline && now >= *options_.hard_deadline;
    }
    if (abort_at_ && now >= *abort_at_) MPI_Abort(MPI_COMM_WORLD, 1);
    if (check_) {
      collect_replies();
      if (!in_collective || entered != check_->entered) {
        check_.reset();  // the collective completed: nobody stalled
        return;
      }
      if (check_->answers.size() + 1 >= check_->members.size() || now >= check_->until) decide(now);
      return;
    }
    if (!in_collective) return;
    if (entered != judged_entered_) next_judgement_ = next_silence_check_ = entered;  // a new wait
    const double waited = seconds_between(entered, now);
    if (deadline)
      start_check(now, timeout, StallCheck::deadline);
    else if (waited >= timeout && now >= next_judgement_)
      start_check(now, timeout, StallCheck::timeout);
    else if (waited >= silence && now >= next_silence_check_)
      start_check(now, timeout, StallCheck::silence);
  }

  static double grace_of(const Check& c) {
    switch (c.kind) {
      case StallCheck::deadline: return 1.0;
      case StallCheck::silence: return StallPolicy::kSilenceGrace;
      case StallCheck::timeout: break;
    }
    return StallPolicy::grace(c.timeout);
  }

  void start_check(Clock::time_point now, double timeout, StallCheck kind) {
    Check c;
    {
      const std::lock_guard lock(mutex_);
      if (!in_collective_ || members_ == nullptr) return;
      c.entered = entered_;
      c.comm = comm_id_;
      c.sequence = sequence_;
      c.members = *members_;
    }
    c.id = ++checks_;
    c.timeout = timeout;
    c.kind = kind;
    c.until = now + after(grace_of(c));
    // The payload outlives the sends (freed requests complete on their own,
    // even towards a peer that never reads them).
    pings_.push_back({c.id, std::int64_t(c.comm), std::int64_t(c.sequence)});
    for (const int member : c.members) {
      if (member == rank_) continue;
      MPI_Request request;
      if (MPI_Isend(pings_.back().data(), int(Ping{}.size()), MPI_INT64_T, member, kPingTag, comm_, &request) ==
          MPI_SUCCESS)
        MPI_Request_free(&request);
    }
    judged_entered_ = c.entered;
    check_ = std::move(c);
  }

  void decide(Clock::time_point now) {
    Check& c = *check_;
    std::vector<PeerAnswer> answers;
    for (const int member : c.members) {
      if (member == rank_) continue;
      PeerAnswer a = c.answers.count(member) ? c.answers[member] : PeerAnswer{};
      a.rank = member;
      answers.push_back(a);
    }
    const StallVerdict v = judge(rank_, c.comm, c.sequence, seconds_between(c.entered, now), c.timeout, answers,
                                 who_, c.kind);
    const double grace = grace_of(c);
    const StallCheck kind = c.kind;
    const double timeout = c.timeout;
    check_.reset();
    if (v.stalled.empty()) {  // everyone answers, nobody stalled yet: look again later
      next_silence_check_ = now + after(StallPolicy::kSilenceSeconds);
      if (kind == StallCheck::timeout) next_judgement_ = now + after(timeout);
      return;
    }
    if (v.report) {
      std::string prefix;
      {
        const std::lock_guard lock(mutex_);
        prefix = options_.error_prefix;
      }
      const std::string line = prefix + v.message + "\n";
      [[maybe_unused]] const ssize_t written = ::write(2, line.data(), line.size());
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    // The rank that reports ends the job; should it not, so do we.
    abort_at_ = now + after(grace);
  }

  static Clock::duration after(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  std::vector<std::string> who_;
  std::uint64_t next_comm_id_ = 1;  // 0 is MPI_COMM_WORLD
  std::thread thread_;

  // Shared with the main thread, under mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool in_collective_ = false;
  Clock::time_point started_, entered_, left_;
  std::uint64_t comm_id_ = 0, sequence_ = 0;
  const std::vector<int>* members_ = nullptr;
  double longest_interval_ = 0;
  StallOptions options_;
  StallPolicy policy_;

  // The watchdog thread's own.
  std::optional<Check> check_;
  std::int64_t checks_ = 0;
  std::deque<Ping> pings_;
  Clock::time_point judged_entered_, next_judgement_, next_silence_check_;
  std::optional<Clock::time_point> abort_at_;
};

// Marks a blocking collective for the watchdog (if there is one).
class Watched {
 public:
  Watched(Watchdog* watchdog, std::uint64_t comm, std::uint64_t sequence, const std::vector<int>* members)
      : watchdog_(watchdog) {
    if (watchdog_) watchdog_->enter(comm, sequence, members);
  }
  ~Watched() {
    if (watchdog_) watchdog_->leave();
  }
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;

 private:
  Watchdog* watchdog_;
};

// MPI counts are int: a larger count is refused rather than truncated.
int mpi_count(std::size_t count, const char* what) {
  if (count > std::size_t(std::numeric_limits<int>::max()))
    throw ModelError(std::string(what) + ": " + std::to_string(count) + " values, more than the " +
                     std::to_string(std::numeric_limits<int>::max()) + " one MPI call can carry");
  return int(count);
}

// The part of `count` elements that rank `rank` of `ranks` owns in
// sum_compressed: contiguous, the first count % ranks ranks one more.
struct Chunk {
  std::size_t begin = 0, size = 0;
};
Chunk chunk_of(std::size_t count, std::size_t ranks, std::size_t rank) {
  const std::size_t base = count / ranks, extra = count % ranks;
  return {rank * base + std::min(rank, extra), base + (rank < extra ? 1 : 0)};
}

// Grows `buffer` to at least `count` elements (never shrinks it, so that
// calls at or below the largest count seen allocate nothing); the first
// `count` elements.
template <class T>
std::span<T> scratch(std::vector<T>& buffer, std::size_t count) {
  if (buffer.size() < count) buffer.resize(count);
  return std::span<T>(buffer.data(), count);
}

const char* thread_level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    default: return "MPI_THREAD_MULTIPLE";
  }
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    int provided = MPI_THREAD_SINGLE;
    if (!initialized) {
      // MULTIPLE: the stall watchdog talks to its peers while the main
      // thread waits inside a collective.
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
      owns_ = true;
    } else {
      MPI_Query_thread(&provided);
    }
    // Errors come back as codes we turn into exceptions, instead of MPI
    // aborting behind our back.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    thread_level_ = provided;
    for (int r = 0; r < size_; ++r) members_.push_back(r);
    // The level MPI granted decides what runs beside the main thread; a
    // library built without thread support says so here, once.
    if (size_ > 1 && provided < MPI_THREAD_MULTIPLE && rank_ == 0)
      std::fprintf(stderr,
                   "sinapsis: warning: MPI granted thread level %s, not MPI_THREAD_MULTIPLE: no stall watchdog "
                   "(a rank that hangs is not named)%s\n",
                   thread_level_name(provided),
                   provided >= MPI_THREAD_SERIALIZED ? "" : ", and no overlapped gradient exchange (--overlap)");
    if (size_ > 1 && provided >= MPI_THREAD_MULTIPLE) {
      owned_watchdog_ = std::make_unique<Watchdog>();
      watchdog_ = owned_watchdog_.get();
    }
  }
  // A sub-communicator (from split()); it frees it. `watchdog` is the
  // world's (it outlives every part).
  MpiCommunicator(MPI_Comm comm, Watchdog* watchdog, int thread_level)
      : comm_(comm), owns_comm_(true), thread_level_(thread_level), watchdog_(watchdog) {
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    // The members' ranks in the job, for the watchdog's pings.
    MPI_Group world_group, group;
    MPI_Comm_group(MPI_COMM_WORLD, &world_group);
    MPI_Comm_group(comm_, &group);
    std::vector<int> local(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) local[std::size_t(r)] = r;
    members_.resize(local.size());
    MPI_Group_translate_ranks(group, size_, local.data(), world_group, members_.data());
    MPI_Group_free(&group);
    MPI_Group_free(&world_group);
    if (watchdog_) id_ = watchdog_->new_comm_id();
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    owned_watchdog_.reset();  // its thread stops before MPI does
    if (owns_comm_ && !finalized) MPI_Comm_free(&comm_);
    if (owns_ && !finalized) MPI_Finalize();
  }

  std::unique_ptr<Communicator> split(int color) override {
    MPI_Comm part = MPI_COMM_NULL;
    {
      const Watched watched(watchdog_, id_, ++sequence_, &members_);
      check(MPI_Comm_split(comm_, color, rank_, &part), "MPI_Comm_split");
    }
    return std::make_unique<MpiCommunicator>(part, watchdog_, thread_level_);
  }

  bool background_calls_allowed() const override { return thread_level_ >= MPI_THREAD_SERIALIZED; }

  void watch_stalls(const StallOptions& options) override {
    if (watchdog_) watchdog_->configure(options);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string host() const override {
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    MPI_Get_processor_name(name, &length);
    return std::string(name, std::size_t(length));
  }
  [[noreturn]] void abort(int status) override {
    MPI_Abort(MPI_COMM_WORLD, status);  // the whole job, not just this group
    std::_Exit(status);
  }

 protected:
  void allreduce_raw(void* data, std::size_t count, Type type, ReduceOp op) override {
    const int n = mpi_count(count, "MPI_Allreduce");
    const Watched watched(watchdog_, id_, ++sequence_, &members_);
    check(MPI_Allreduce(MPI_IN_PLACE, data, n, mpi_type(type), mpi_op(op), comm_), "MPI_Allreduce");
  }
  void allreduce_polled_raw(void* data, std::size_t count, Type type, ReduceOp op,
                            std::chrono::microseconds poll) override {
    const int n = mpi_count(count, "MPI_Iallreduce");
    const Watched watched(watchdog_, id_, ++sequence_, &members_);
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, n, mpi_type(type), mpi_op(op), comm_, &request),
          "MPI_Iallreduce");
    wait_polled(request, poll);
  }
  // Tests `request` every `poll`, sleeping in between, until it is done.
  static void wait_polled(MPI_Request& request, std::chrono::microseconds poll) {
    for (int done = 0;;) {
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done) return;
      std::this_thread::sleep_for(poll);
    }
  }
  void broadcast_raw(void* data, std::size_t count, Type type, int root) override {
    const int n = mpi_count(count, "MPI_Bcast");
    const Watched watched(watchdog_, id_, ++sequence_, &members_);
    check(MPI_Bcast(data, n, mpi_type(type), root, comm_), "MPI_Bcast");
  }
  void allgather_raw(const void* mine, std::size_t count, Type type, void* all) override {
    const int n = mpi_count(count, "MPI_Allgather");
    const Watched watched(watchdog_, id_, ++sequence_, &members_);
    check(MPI_Allgather(mine, n, mpi_type(type), all, n, mpi_type(type), comm_), "MPI_Allgather");
  }
  // The mechanism is described at Communicator::sum_compressed.
  void sum_16_bits(std::span<float> values, GradPrecision precision, std::chrono::microseconds poll) override {
    const std::size_t count = values.size(), ranks = std::size_t(size_);
    // Every count and offset below is at most `count`, except own_begins
    // for a count below ranks^2.
    mpi_count(count, "sum_compressed");
    if (count == 0) return;  // the same count on every rank: every rank returns
    const Chunk own = chunk_of(count, ranks, std::size_t(rank_));
    // Alltoallv: to rank q its chunk of this rank's values; from rank q its
    // values of this rank's chunk, in rank order. Allgatherv: rank q's
    // summed chunk into its place.
    const auto chunk_counts = scratch(chunk_counts_, ranks), chunk_begins = scratch(chunk_begins_, ranks);
    const auto own_counts = scratch(own_counts_, ranks), own_begins = scratch(own_begins_, ranks);
    for (std::size_t q = 0; q < ranks; ++q) {
      const Chunk chunk = chunk_of(count, ranks, q);
      chunk_counts[q] = int(chunk.size);
      chunk_begins[q] = int(chunk.begin);
      own_counts[q] = int(own.size);
      own_begins[q] = int(q * own.size);
    }
    const auto wire = scratch(wire_, count);
    const auto contributions = scratch(contributions_, ranks * own.size);
    round_to_16_bits(values, wire, precision);
    {
      const Watched watched(watchdog_, id_, ++sequence_, &members_);
      if (poll.count() > 0) {
        MPI_Request request = MPI_REQUEST_NULL;
        check(MPI_Ialltoallv(wire.data(), chunk_counts.data(), chunk_begins.data(), MPI_UINT16_T,
                             contributions.data(), own_counts.data(), own_begins.data(), MPI_UINT16_T, comm_,
                             &request),
              "MPI_Ialltoallv");
        wait_polled(request, poll);
      } else {
        check(MPI_Alltoallv(wire.data(), chunk_counts.data(), chunk_begins.data(), MPI_UINT16_T,
                            contributions.data(), own_counts.data(), own_begins.data(), MPI_UINT16_T, comm_),
              "MPI_Alltoallv");
      }
    }
    // The sum accumulates in the caller's floats of this chunk: this rank's
    // own contribution is already on the wire, and the result replaces them.
    const auto sum = values.subspan(own.begin, own.size);
    widen_from_16_bits(contributions.first(own.size), sum, precision);
    for (std::size_t q = 1; q < ranks; ++q)
      add_from_16_bits(contributions.subspan(q * own.size, own.size), sum, precision);
    round_to_16_bits(sum, wire.subspan(own.begin, own.size), precision);
    {
      const Watched watched(watchdog_, id_, ++sequence_, &members_);
      if (poll.count() > 0) {
        MPI_Request request = MPI_REQUEST_NULL;
        check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, wire.data(), chunk_counts.data(),
                              chunk_begins.data(), MPI_UINT16_T, comm_, &request),
              "MPI_Iallgatherv");
        wait_polled(request, poll);
      } else {
        check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, wire.data(), chunk_counts.data(),
                             chunk_begins.data(), MPI_UINT16_T, comm_),
              "MPI_Allgatherv");
      }
    }
    widen_from_16_bits(wire, values, precision);
  }

 private:
  static MPI_Datatype mpi_type(Type type) {
    switch (type) {
      case Type::int32: return MPI_INT32_T;
      case Type::int64: return MPI_INT64_T;
      case Type::uint64: return MPI_UINT64_T;
      case Type::float32: return MPI_FLOAT;
      case Type::float64: return MPI_DOUBLE;
      case Type::byte: return MPI_BYTE;
    }
    return MPI_BYTE;
  }
  static MPI_Op mpi_op(ReduceOp op) {
    switch (op) {
      case ReduceOp::sum: return MPI_SUM;
      case ReduceOp::max: return MPI_MAX;
      case ReduceOp::min: return MPI_MIN;
    }
    return MPI_SUM;
  }
  static void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string(what) + " failed: " + std::string(text, std::size_t(length)));
  }

  MPI_Comm comm_ = MPI_COMM_WORLD;
  bool owns_comm_ = false;  // a split() part, freed with this object
  int thread_level_ = MPI_THREAD_SINGLE;  // what MPI_Init_thread granted
  int rank_ = 0;
  int size_ = 1;
  bool owns_ = false;  // initialized MPI, finalizes it
  std::vector<int> members_;  // the ranks in the job (MPI_COMM_WORLD) of this communicator's ranks
  std::unique_ptr<Watchdog> owned_watchdog_;  // the world's
  Watchdog* watchdog_ = nullptr;              // null with one rank
  std::uint64_t id_ = 0;                      // the watchdog's name for this communicator
  std::uint64_t sequence_ = 0;                // collectives so far on it
  // sum_16_bits's scratch (one thread at a time): the 16-bit values, this
  // rank's chunk from every rank, and the MPI counts and offsets per rank.
  std::vector<std::uint16_t> wire_, contributions_;
  std::vector<int> chunk_counts_, chunk_begins_, own_counts_, own_begins_;
};

}  // namespace

bool under_mpi_launcher() {
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(variable) != nullptr) return true;
  return false;
}

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);  // callable before MPI_Init
  std::string version(text, std::size_t(length));
  if (const auto comma = version.find(','); comma != std::string::npos) version.resize(comma);
  return version;
}

std::unique_ptr<Communicator> make_communicator(MPI_Comm comm) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized)
    throw std::runtime_error("make_communicator(MPI_Comm): MPI is not initialized (call MPI_Init_thread first)");
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  MPI_Comm own = MPI_COMM_NULL;
  if (MPI_Comm_dup(comm, &own) != MPI_SUCCESS) throw std::runtime_error("make_communicator(MPI_Comm): MPI_Comm_dup failed");
  return std::make_unique<MpiCommunicator>(own, nullptr, provided);
}

std::unique_ptr<Communicator> make_communicator() {
  if (under_mpi_launcher()) {
    settle_wait_settings();  // before MPI_Init reads the MCA parameters
    return std::make_unique<MpiCommunicator>();
  }
  return std::make_unique<SingleProcess>();
}

}  // namespace sinapsis
