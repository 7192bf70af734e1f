#include "io/checkpoint.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace sinapsis {
namespace {

std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

void write_checkpoint(const std::string& path, const Model<float>& model, Loss loss, const ModelInputs& inputs,
                      const Trainer<float>::State& state, const CommandLine& command, int ranks,
                      const std::vector<std::string>& metric_rows) {
  const auto lines = [](const std::vector<std::string>& arguments) {
    std::string joined;
    for (const auto& a : arguments) joined += a + "\n";
    return joined;
  };
  write_model_file(path, model, loss, inputs, [&](std::int64_t file) {
    const h5::Handle group = h5::create_group(file, "checkpoint", path);
    h5::write_int_attribute(group.get(), "epochs_done", std::int64_t(state.epochs_done));
    h5::write_int_attribute(group.get(), "global_step", std::int64_t(state.global_step));
    h5::write_int_attribute(group.get(), "ranks", ranks);
    h5::write_string_attribute(group.get(), "arguments", lines(command.arguments));
    if (!command.as_given.empty()) {
      h5::write_string_attribute(group.get(), "arguments_as_given", lines(command.as_given));
      h5::write_string_attribute(group.get(), "working_directory", command.working_directory);
    }
    h5::write_double_attribute(group.get(), "early_best", state.early.best);
    h5::write_int_attribute(group.get(), "early_best_epoch", std::int64_t(state.early.best_epoch));
    h5::write_int_attribute(group.get(), "early_wait", std::int64_t(state.early.wait));
    h5::write_int_attribute(group.get(), "early_epochs_seen", std::int64_t(state.early.epochs_seen));
    h5::write_int_attribute(group.get(), "steps_into_epoch", std::int64_t(state.steps_into_epoch));
    h5::write_double_attribute(group.get(), "epoch_loss_sum", state.epoch_loss_sum);
    h5::write_int_attribute(group.get(), "epoch_correct", std::int64_t(state.epoch_correct));
    h5::write_double_attribute(group.get(), "loss_scale", state.loss_scale);
    h5::write_int_attribute(group.get(), "loss_scale_good_steps", std::int64_t(state.scale_good_steps));
    std::string rows;
    for (const auto& row : metric_rows) rows += row + "\n";
    h5::write_string_attribute(group.get(), "metrics_rows", rows);
    h5::write_int_attribute(group.get(), "optimizer_steps", std::int64_t(state.optimizer_steps));
    h5::write_int_attribute(group.get(), "data_streamed", state.streamed ? 1 : 0);
    h5::write_double_attribute(group.get(), "plateau_best", state.plateau.best);
    h5::write_int_attribute(group.get(), "plateau_bad_epochs", std::int64_t(state.plateau.bad_epochs));
    h5::write_double_attribute(group.get(), "plateau_factor", state.plateau.factor);
    for (const auto& [name, values] : {std::pair{"optimizer_state", &state.optimizer_state},
                                       std::pair{"best_parameters", &state.best_parameters},
                                       std::pair{"good_parameters", &state.good_parameters}})
      h5::write_floats(group.get(), name, {values->size()}, values->data(), path);
  });
}

Checkpoint read_checkpoint(const std::string& path) {
  Checkpoint c{read_model_file(path), {}, {}, 1, std::nullopt, {}, {}, std::nullopt};
  const h5::Handle file = h5::open_file(path);
  if (!h5::exists(file.get(), "checkpoint")) throw ModelError(path + ": not a checkpoint (no /checkpoint group)");
  const h5::Handle group = h5::open_group(file.get(), "checkpoint", path);
  // Counts must be whole numbers in [0, 2^53]: a hand-edited or damaged
  // checkpoint is refused, naming the attribute and its value.
  const auto count = [&](const char* name, std::optional<double> fallback = std::nullopt) {
    auto value = h5::read_number_attribute(group.get(), name, path);
    if (!value) value = fallback;
    if (!value) throw ModelError(path + ": checkpoint has no attribute " + name);
    if (!(*value >= 0 && *value <= 9007199254740992.0 && std::floor(*value) == *value))
      throw ModelError(path + ": /checkpoint attribute " + name + " is " + number_text(*value) +
                       ", not a count >= 0");
    return std::uint64_t(*value);
  };
  if (h5::read_number_attribute(group.get(), "data_streamed", path)) {
    c.data_streamed = count("data_streamed") != 0;
    c.state.streamed = *c.data_streamed;
  }
  c.state.epochs_done = count("epochs_done");
  c.state.global_step = count("global_step");
  c.ranks = int(std::min<std::uint64_t>(count("ranks"), 1u << 30));
  if (c.ranks < 1) throw ModelError(path + ": /checkpoint attribute ranks is 0");
  c.state.early.best = h5::read_number_attribute(group.get(), "early_best", path).value_or(std::nan(""));
  c.state.early.best_epoch = count("early_best_epoch");
  c.state.early.wait = count("early_wait");
  c.state.early.epochs_seen = count("early_epochs_seen");
  // A checkpoint written mid-epoch (a stop on request) says where it stopped.
  c.state.steps_into_epoch = count("steps_into_epoch", 0.0);
  c.state.epoch_loss_sum = h5::read_number_attribute(group.get(), "epoch_loss_sum", path).value_or(0);
  c.state.epoch_correct = double(count("epoch_correct", 0.0));  // absent before train_accuracy: 0
  c.state.loss_scale = h5::read_number_attribute(group.get(), "loss_scale", path).value_or(1);
  c.state.scale_good_steps = count("loss_scale_good_steps", 0.0);
  if (!(c.state.loss_scale >= 1 && c.state.loss_scale <= 16777216))
    throw ModelError(path + ": /checkpoint attribute loss_scale must be in [1, 2^24], got " +
                     std::to_string(c.state.loss_scale));
  for (const auto& [name, value] : {std::pair{"early_best_epoch", c.state.early.best_epoch},
                                    std::pair{"early_wait", c.state.early.wait},
                                    std::pair{"early_epochs_seen", c.state.early.epochs_seen}})
    if (value > c.state.epochs_done)
      throw ModelError(path + ": /checkpoint attribute " + name + " is " + std::to_string(value) +
                       ", past epochs_done " + std::to_string(c.state.epochs_done));
  if (!std::isfinite(c.state.epoch_loss_sum))
    throw ModelError(path + ": /checkpoint attribute epoch_loss_sum is not finite");
  const auto lines = [&](const char* name) {
    std::vector<std::string> out;
    std::istringstream text(h5::read_string_attribute(group.get(), name, path).value_or(""));
    for (std::string line; std::getline(text, line);) out.push_back(line);
    return out;
  };
  c.arguments = lines("arguments");
  c.arguments_as_given = lines("arguments_as_given");
  c.working_directory = h5::read_string_attribute(group.get(), "working_directory", path).value_or("");
  if (const auto rows = h5::read_string_attribute(group.get(), "metrics_rows", path)) {
    c.metric_rows.emplace();
    std::istringstream text(*rows);
    for (std::string row; std::getline(text, row);) c.metric_rows->push_back(row);
  }
  c.state.optimizer_steps = count("optimizer_steps", 0.0);
  c.state.plateau.best = h5::read_number_attribute(group.get(), "plateau_best", path).value_or(std::nan(""));
  c.state.plateau.bad_epochs = count("plateau_bad_epochs", 0.0);
  c.state.plateau.factor = h5::read_number_attribute(group.get(), "plateau_factor", path).value_or(1);
  if (!(c.state.plateau.factor > 0 && c.state.plateau.factor <= 1))
    throw ModelError(path + ": /checkpoint attribute plateau_factor must be in (0, 1], got " +
                     number_text(c.state.plateau.factor));
  const std::size_t n = c.model.model.parameters().size();
  // The optimizer's state: one or two buffers of the parameters' size
  // (a checkpoint of an earlier version: SGD's velocity).
  const char* state_name = h5::exists(group.get(), "optimizer_state") ? "optimizer_state" : "velocity";
  for (const auto& [name, values, most] : {std::tuple{state_name, &c.state.optimizer_state, 2 * n},
                                           std::tuple{"best_parameters", &c.state.best_parameters, n},
                                           std::tuple{"good_parameters", &c.state.good_parameters, n}}) {
    const h5::Handle set = h5::open_dataset(group.get(), name, path);
    std::size_t size = 1;
    for (const hsize_t d : h5::shape(set.get())) size = d > most ? most + 1 : size * std::size_t(d);
    if (size == 0 || size % n != 0 || size > most)  // checked before reading: the file may claim any size
      throw ModelError(path + ": /checkpoint/" + std::string(name) + " does not hold " +
                       (most == n ? "the " : "one or two times the ") + std::to_string(n) +
                       " values of the model's parameters");
    *values = h5::read_floats(set.get(), path + ": /checkpoint/" + name);
    for (std::size_t i = 0; i < values->size(); ++i)
      if (!std::isfinite((*values)[i]))
        throw ModelError(path + ": /checkpoint/" + std::string(name) + " holds a non-finite value at " +
                         std::to_string(i));
  }
  return c;
}

}  // namespace sinapsis
