// The dependency rules of the source tree (README, "Layout"), checked on
// the files themselves: launch -> dist -> core and launch -> io -> core,
// never back; HDF5's header only inside io/, MPI's only in dist's two files
// that wrap it; nlohmann-json's only in io/json_text.hpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Include {
  std::string file, target;
};

// Every #include of every .hpp/.cpp under `dir` of the source tree.
std::vector<Include> includes_in(const std::string& dir) {
  static const std::regex include(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  std::vector<Include> found;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(SINAPSIS_SOURCE_DIR) / dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".hpp" && ext != ".cpp") continue;
    std::ifstream in(entry.path());
    std::string line;
    std::smatch m;
    while (std::getline(in, line))
      if (std::regex_search(line, m, include)) found.push_back({entry.path().lexically_relative(SINAPSIS_SOURCE_DIR).string(), m[1]});
  }
  return found;
}

std::string layer_of(const std::string& target) {
  const auto slash = target.find('/');
  return slash == std::string::npos ? "" : target.substr(0, slash);
}

TEST(Layering, EachPartIncludesOnlyThePartsBelowIt) {
  const std::map<std::string, std::set<std::string>> allowed = {
      {"core", {"core"}}, {"io", {"io", "core"}}, {"dist", {"dist", "core"}},
      {"launch", {"launch", "io", "dist", "core"}}};
  for (const auto& [part, may] : allowed)
    for (const Include& i : includes_in(part)) {
      const std::string layer = layer_of(i.target);
      if (allowed.count(layer)) {
        EXPECT_TRUE(may.count(layer)) << i.file << " includes " << i.target;
      }
    }
}

TEST(Layering, HdfAndMpiHeadersStayInTheirWrappers) {
  const std::set<std::string> mpi_files = {"dist/mpi_communicator.cpp", "dist/mpi_comm.hpp"};
  for (const std::string part : {"core", "io", "dist", "launch"})
    for (const Include& i : includes_in(part)) {
      if (i.target == "hdf5.h" || i.target == "io/hdf5.hpp") {
        EXPECT_EQ(part, "io") << i.file << " includes " << i.target << ": HDF5 belongs to io/";
      }
      if (i.target == "mpi.h") {
        EXPECT_TRUE(mpi_files.count(i.file)) << i.file << " includes mpi.h outside dist's MPI wrappers";
      }
      // The API header is the one place a program meets MPI through sinapsis.
      if (i.target == "dist/mpi_comm.hpp") {
        EXPECT_TRUE(i.file == "dist/mpi_communicator.cpp" || i.file == "launch/sinapsis.hpp") << i.file;
      }
    }
}

// JSON text has one owner: io/json_text (the layout of the files, the
// lines in read errors); the rest of the tree meets nlohmann-json through it.
TEST(Layering, NlohmannJsonComesThroughIoJsonText) {
  for (const std::string part : {"core", "io", "dist", "launch", "tests"})
    for (const Include& i : includes_in(part)) {
      if (i.target.rfind("nlohmann/", 0) == 0) {
        EXPECT_EQ(i.file, "io/json_text.hpp") << i.file << " includes " << i.target;
      }
    }
}

}  // namespace
