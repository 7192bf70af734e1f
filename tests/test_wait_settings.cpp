// How ranks wait: sinapsis makes ranks on several hosts yield instead of
// spinning, unless the user chose, and knows when the transports include TCP.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "dist/communicator.hpp"

namespace sinapsis {
namespace {

WaitSettings settings(const std::map<std::string, std::string>& environment) {
  return wait_settings_for([&](const char* name) -> const char* {
    const auto it = environment.find(name);
    return it == environment.end() ? nullptr : it->second.c_str();
  });
}

TEST(WaitSettings, MpirunRanksOnSeveralHostsAreSeenAsSuch) {
  EXPECT_TRUE(settings({{"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}).spans_hosts);
  EXPECT_FALSE(settings({{"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}).spans_hosts);
  EXPECT_FALSE(settings({{"OMPI_COMM_WORLD_SIZE", "2"}}).spans_hosts) << "no local size: nothing known";
  EXPECT_FALSE(settings({}).spans_hosts);
}

TEST(WaitSettings, SrunStepsOnSeveralNodesAreSeenAsSuch) {
  EXPECT_TRUE(settings({{"SLURM_STEP_NUM_NODES", "2"}, {"SLURM_PROCID", "0"}}).spans_hosts);
  EXPECT_FALSE(settings({{"SLURM_STEP_NUM_NODES", "1"}, {"SLURM_NNODES", "4"}}).spans_hosts)
      << "a one-node step of a larger allocation";
  EXPECT_TRUE(settings({{"SLURM_NNODES", "3"}, {"SLURM_PROCID", "1"}}).spans_hosts);
  EXPECT_FALSE(settings({{"SLURM_NNODES", "3"}}).spans_hosts) << "the batch script itself, not a task";
  EXPECT_FALSE(settings({{"SLURM_STEP_NUM_NODES", "x"}}).spans_hosts);
}

TEST(WaitSettings, TheUsersChoiceOfYieldIsRead) {
  const WaitSettings none = settings({});
  EXPECT_FALSE(none.user_chose);
  EXPECT_FALSE(none.yields);
  const WaitSettings yes = settings({{"OMPI_MCA_mpi_yield_when_idle", "1"}});
  EXPECT_TRUE(yes.user_chose);
  EXPECT_TRUE(yes.yields);
  const WaitSettings no = settings({{"OMPI_MCA_mpi_yield_when_idle", "0"}});
  EXPECT_TRUE(no.user_chose);
  EXPECT_FALSE(no.yields);
  EXPECT_FALSE(no.set_by_sinapsis) << "the pure decision sets nothing";
}

TEST(WaitSettings, TcpIsInTheTransportsUnlessExcludedOrNotListed) {
  EXPECT_TRUE(settings({}).tcp) << "Open MPI's choice may be TCP";
  EXPECT_TRUE(settings({{"OMPI_MCA_btl", "tcp,self"}}).tcp);
  EXPECT_TRUE(settings({{"OMPI_MCA_btl", "self,vader,tcp"}}).tcp);
  EXPECT_FALSE(settings({{"OMPI_MCA_btl", "self,vader"}}).tcp);
  EXPECT_FALSE(settings({{"OMPI_MCA_btl", "^tcp"}}).tcp);
  EXPECT_TRUE(settings({{"OMPI_MCA_btl", "^openib"}}).tcp);
}

TEST(WaitSettings, HowLongMpirunTakesToNoticeALostHostFollowsItsKeepaliveOptions) {
  const WaitSettings defaults = settings({{"OMPI_MCA_orte_hnp_uri", "1.0;tcp://10.0.0.1:5000"}});
  EXPECT_TRUE(defaults.mpirun);
  EXPECT_EQ(defaults.lost_host_seconds, 300 + 20 * 9) << "Open MPI 4.1's defaults";
  const WaitSettings given = settings({{"OMPI_MCA_orte_hnp_uri", "x"},
                                       {"OMPI_MCA_oob_tcp_keepalive_time", "5"},
                                       {"OMPI_MCA_oob_tcp_keepalive_intvl", "2"},
                                       {"OMPI_MCA_oob_tcp_keepalive_probes", "3"}});
  EXPECT_EQ(given.lost_host_seconds, 11);
  EXPECT_FALSE(settings({{"SLURM_STEP_NUM_NODES", "2"}, {"SLURM_PROCID", "0"}}).mpirun) << "srun";
}

}  // namespace
}  // namespace sinapsis
