#include "io/checkpoint.hpp"

#include <sstream>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace sinapsis {

void write_checkpoint(const std::string& path, const Model<float>& model, Loss loss, const std::string& features,
                      const Standardizer& standardizer, const Trainer<float>::State& state,
                      const std::vector<std::string>& arguments, int ranks) {
  write_model_file(path, model, loss, features, standardizer, [&](std::int64_t file) {
    const h5::Handle group = h5::create_group(file, "checkpoint", path);
    h5::write_int_attribute(group.get(), "epochs_done", std::int64_t(state.epochs_done));
    h5::write_int_attribute(group.get(), "global_step", std::int64_t(state.global_step));
    h5::write_int_attribute(group.get(), "ranks", ranks);
    std::string joined;
    for (const auto& a : arguments) joined += a + "\n";
    h5::write_string_attribute(group.get(), "arguments", joined);
    h5::write_double_attribute(group.get(), "early_best", state.early.best);
    h5::write_int_attribute(group.get(), "early_best_epoch", std::int64_t(state.early.best_epoch));
    h5::write_int_attribute(group.get(), "early_wait", std::int64_t(state.early.wait));
    h5::write_int_attribute(group.get(), "early_epochs_seen", std::int64_t(state.early.epochs_seen));
    h5::write_int_attribute(group.get(), "steps_into_epoch", std::int64_t(state.steps_into_epoch));
    h5::write_double_attribute(group.get(), "epoch_loss_sum", state.epoch_loss_sum);
    for (const auto& [name, values] : {std::pair{"velocity", &state.velocity},
                                       std::pair{"best_parameters", &state.best_parameters},
                                       std::pair{"good_parameters", &state.good_parameters}})
      h5::write_floats(group.get(), name, {values->size()}, values->data(), path);
  });
}

Checkpoint read_checkpoint(const std::string& path) {
  Checkpoint c{read_model_file(path), {}, {}, 1};
  const h5::Handle file = h5::open_file(path);
  if (!h5::exists(file.get(), "checkpoint")) throw ModelError(path + ": not a checkpoint (no /checkpoint group)");
  const h5::Handle group = h5::open_group(file.get(), "checkpoint", path);
  const auto number = [&](const char* name) {
    const auto value = h5::read_number_attribute(group.get(), name, path);
    if (!value) throw ModelError(path + ": checkpoint has no attribute " + name);
    return *value;
  };
  c.state.epochs_done = std::size_t(number("epochs_done"));
  c.state.global_step = std::uint64_t(number("global_step"));
  c.ranks = int(number("ranks"));
  c.state.early.best = number("early_best");
  c.state.early.best_epoch = std::size_t(number("early_best_epoch"));
  c.state.early.wait = std::size_t(number("early_wait"));
  c.state.early.epochs_seen = std::size_t(number("early_epochs_seen"));
  // A checkpoint written mid-epoch (a stop on request) says where it stopped.
  c.state.steps_into_epoch =
      std::size_t(h5::read_number_attribute(group.get(), "steps_into_epoch", path).value_or(0));
  c.state.epoch_loss_sum = h5::read_number_attribute(group.get(), "epoch_loss_sum", path).value_or(0);
  std::istringstream lines(h5::read_string_attribute(group.get(), "arguments", path).value_or(""));
  for (std::string line; std::getline(lines, line);) c.arguments.push_back(line);
  const std::size_t n = c.model.model.parameters().size();
  for (const auto& [name, values] : {std::pair{"velocity", &c.state.velocity},
                                     std::pair{"best_parameters", &c.state.best_parameters},
                                     std::pair{"good_parameters", &c.state.good_parameters}}) {
    const h5::Handle set = h5::open_dataset(group.get(), name, path);
    *values = h5::read_floats(set.get(), path + ": /checkpoint/" + name);
    if (values->size() != n)
      throw ModelError(path + ": /checkpoint/" + std::string(name) + " has " + std::to_string(values->size()) +
                       " values for a model of " + std::to_string(n) + " parameters");
  }
  return c;
}

}  // namespace sinapsis
