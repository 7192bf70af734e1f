// sinapsis report RUN_DIR | SWEEP_DIR: an HTML page with plots, written to
// DIR/report/index.html with its PNG images beside it.
//   a run:   loss (and accuracy) curves per epoch with the early-stopping
//            point marked; for 2-input data, the model's decision surface
//            over the input plane with the training and test points, as the
//            Playground draws it; the configuration and the summary.
//   a sweep: a heat map of the loss over depth x width per feature set,
//            the cells under --target-loss marked and the simplest network
//            starred; the trials table; the summary.
// Plots are drawn by gnuplot (Debian's gnuplot-nox), driven through a script
// written beside them. Without gnuplot the page is written without images,
// and one line says why.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include "core/network.hpp"
#include "io/atomic_file.hpp"
#include "io/data_file.hpp"
#include "io/model_file.hpp"
#include "launch/options.hpp"
#include "launch/pipeline.hpp"
#include "launch/sweep_plan.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// key = value lines of config.ini (the [section] line skipped).
std::map<std::string, std::string> read_config(const fs::path& file) {
  std::map<std::string, std::string> values;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find(" = ");
    if (line.empty() || line[0] == '#' || line[0] == '[' || eq == std::string::npos) continue;
    values[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return values;
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// Runs a gnuplot script; false (and a note) if it failed.
bool run_gnuplot(const fs::path& script, std::vector<std::string>& notes) {
  const std::string command = "gnuplot " + script.string() + " > " + script.string() + ".log 2>&1";
  const bool ok = std::system(command.c_str()) == 0;
  const std::string log = read_text(script.string() + ".log");
  if (!ok || log.find("warning") != std::string::npos)  // e.g. "no valid points": a plot with holes
    notes.push_back("gnuplot " + std::string(ok ? "warned" : "failed") + " on " + script.filename().string() + ": " + log);
  return ok;
}

// The epoch early stopping kept ("best": {"epoch": N, ...} in summary.json), or 0.
std::size_t best_epoch(const std::string& summary) {
  const auto best = summary.find("\"best\": {");
  if (best == std::string::npos) return 0;
  const auto epoch = summary.find("\"epoch\": ", best);
  return epoch == std::string::npos ? 0 : std::size_t(std::atoll(summary.c_str() + epoch + 9));
}

struct Page {
  std::string title, body;
  void heading(const std::string& text) { body += "<h2>" + html_escape(text) + "</h2>\n"; }
  void image(const std::string& file, const std::string& alt) {
    body += "<p><img src=\"" + file + "\" alt=\"" + html_escape(alt) + "\" width=\"800\"></p>\n";
  }
  void text(const std::string& text) { body += "<p>" + html_escape(text) + "</p>\n"; }
  void pre(const std::string& text) { body += "<pre>" + html_escape(text) + "</pre>\n"; }
  std::string html() const {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + html_escape(title) +
           "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
           "pre{background:#f4f4f4;padding:1em;overflow-x:auto}table{border-collapse:collapse;font-size:90%}"
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style>\n</head>\n<body>\n<h1>" +
           html_escape(title) + "</h1>\n" + body + "</body>\n</html>\n";
  }
};

// Loss and accuracy per epoch from metrics.csv, columns found by name.
void loss_curves(const fs::path& run, const fs::path& out, Page& page, std::vector<std::string>& notes) {
  const std::string metrics = read_text(run / "metrics.csv");
  const std::string header = metrics.substr(0, metrics.find('\n'));
  const std::size_t best = best_epoch(read_text(run / "summary.json"));
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,500 noenhanced\nset output '" << (out / "loss.png").string() << "'\n"
     << "set datafile separator ','\nset key outside right top autotitle columnhead\n"
     << "set xlabel 'epoch'\nset ylabel 'loss'\nset grid\n";
  const bool accuracy = header.find("val_accuracy") != std::string::npos || header.find("test_accuracy") != std::string::npos;
  if (accuracy) gp << "set y2label 'accuracy'\nset y2tics\nset ytics nomirror\n";
  if (best > 0)
    gp << "set arrow from " << best << ", graph 0 to " << best << ", graph 1 nohead dt 2 lc rgb 'black'\n"
       << "set label 'early stopping kept epoch " << best << "' at " << best << ", graph 0.95 offset 0.5,0\n";
  const std::string csv = "'" + (run / "metrics.csv").string() + "'";
  gp << "plot " << csv << " using 'epoch':'train_loss' with lines lw 2 title 'train loss', "
     << csv << " using 'epoch':'val_loss' with lines lw 2 title 'validation loss', "
     << csv << " using 'epoch':'test_loss' with lines lw 2 title 'test loss'";
  if (accuracy)
    gp << ", " << csv << " using 'epoch':'val_accuracy' axes x1y2 with lines dt 3 title 'validation accuracy', "
       << csv << " using 'epoch':'test_accuracy' axes x1y2 with lines dt 3 title 'test accuracy'";
  gp << "\n";
  std::ofstream(out / "loss.gp") << gp.str();
  if (run_gnuplot(out / "loss.gp", notes)) page.image("loss.png", "training, validation and test loss per epoch");
}

// The model's output over the input plane, with the training and test points
// (for data with two raw input columns).
void decision_surface(const fs::path& run, const fs::path& out, Page& page, std::vector<std::string>& notes) {
  const auto config = read_config(run / "config.ini");
  if (!config.count("data") || !fs::exists(run / "model.h5")) return;
  ModelFile model = read_model_file((run / "model.h5").string());
  DataOptions o;
  o.data = config.at("data");
  o.val_split = config.count("val-split") ? std::stod(config.at("val-split")) : 0;
  o.test_split = config.count("test-split") ? std::stod(config.at("test-split")) : 0;
  o.test_data = config.count("test-data") ? config.at("test-data") : "";
  o.seed = config.count("seed") ? std::stoull(config.at("seed")) : 1;
  o.class_labels = model.loss != Loss::mse;
  PreparedData data;
  try {
    data = read_training_data(o, 0, 1);  // the run's split, raw columns
  } catch (const std::exception& e) {
    notes.push_back("no decision surface: " + std::string(e.what()));
    return;
  }
  if (data.train.dimension() != 2) return;  // only for points in a plane
  double lo[2] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  double hi[2] = {-lo[0], -lo[1]};
  const auto extend = [&](const Dataset& d) {
    for (std::size_t r = 0; r < d.size(); ++r)
      for (int c = 0; c < 2; ++c) {
        lo[c] = std::min(lo[c], double(d.features(r, std::size_t(c))));
        hi[c] = std::max(hi[c], double(d.features(r, std::size_t(c))));
      }
  };
  extend(data.train);
  if (data.test) extend(*data.test);
  constexpr std::size_t kGrid = 100;
  Dataset grid;
  grid.features = Matrix<float>(kGrid * kGrid, 2);
  for (std::size_t i = 0; i < kGrid; ++i)
    for (std::size_t j = 0; j < kGrid; ++j) {
      grid.features(i * kGrid + j, 0) = float(lo[0] + (hi[0] - lo[0]) * double(j) / (kGrid - 1));
      grid.features(i * kGrid + j, 1) = float(lo[1] + (hi[1] - lo[1]) * double(i) / (kGrid - 1));
    }
  Dataset inputs = grid;
  apply_model_preprocessing(model, inputs, "the report's grid");
  const Architecture& arch = model.model.architecture();
  Workspace<float> ws(arch, kGrid * kGrid);
  const MatrixView<float> y = forward(model.model, ws, ConstMatrixView<float>(inputs.features.view()));
  // One number per point: the positive class's probability (or the output).
  const std::size_t k = arch.outputs();
  std::ofstream surface(out / "surface.dat");
  surface.precision(9);  // a regular grid to gnuplot's `with image`
  for (std::size_t i = 0; i < kGrid; ++i) {
    for (std::size_t j = 0; j < kGrid; ++j) {
      const std::size_t r = i * kGrid + j;
      surface << grid.features(r, 0) << ' ' << grid.features(r, 1) << ' ' << y.data[r * k + (k > 1 ? 1 : 0)] << '\n';
    }
    surface << '\n';
  }
  surface.close();  // complete before gnuplot reads it
  const auto points = [&](const Dataset& d, const fs::path& file) {
    std::ofstream p(file);
    for (std::size_t r = 0; r < d.size(); ++r)
      p << d.features(r, 0) << ' ' << d.features(r, 1) << ' '
        << (d.labels.empty() ? double(d.targets(r, 0)) : double(d.labels[r])) << '\n';
  };
  points(data.train, out / "train.dat");
  if (data.test) points(*data.test, out / "test.dat");
  std::ostringstream gp;
  gp << "set terminal pngcairo size 700,620 noenhanced\nset output '" << (out / "surface.png").string() << "'\n"
     << "set palette defined (0 '#f59322', 0.5 '#e8eaeb', 1 '#0877bd')\nset size ratio -1\n"
     << "set xrange [" << lo[0] << ":" << hi[0] << "]\nset yrange [" << lo[1] << ":" << hi[1] << "]\n"
     << "set xlabel 'x1'\nset ylabel 'x2'\nset key outside bottom horizontal\n"
     << "plot '" << (out / "surface.dat").string() << "' using 1:2:3 with image pixels notitle, '"
     << (out / "train.dat").string() << "' using 1:2 with points pt 7 ps 0.9 lc rgb 'white' notitle, '"
     << (out / "train.dat").string() << "' using 1:2:3 with points pt 7 ps 0.6 lc palette title 'training points'";
  if (data.test)
    gp << ", '" << (out / "test.dat").string() << "' using 1:2:3 with points pt 6 ps 0.8 lc rgb 'black' title 'test points'";
  gp << "\n";
  std::ofstream(out / "surface.gp") << gp.str();
  if (run_gnuplot(out / "surface.gp", notes))
    page.image("surface.png", "the model's output over the input plane with the training and test points");
}

int run_report(const fs::path& run, const fs::path& out, bool plots, std::vector<std::string>& notes) {
  Page page;
  page.title = "sinapsis run " + run.filename().string();
  if (plots) {
    page.heading("Loss per epoch");
    loss_curves(run, out, page, notes);
    page.heading("Decision surface");
    decision_surface(run, out, page, notes);
  }
  page.heading("Summary");
  page.pre(read_text(run / "summary.json"));
  page.heading("Configuration");
  page.pre(read_text(run / "config.ini"));
  AtomicFile html((out / "index.html").string());
  html.stream() << page.html();
  html.commit();
  return kExitSuccess;
}

int sweep_report(const fs::path& sweep, const fs::path& out, bool plots, std::vector<std::string>& notes) {
  std::vector<TrialRecord> rows;
  {
    std::ifstream in(sweep / "trials.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line))
      if (!line.empty()) rows.push_back(parse_trial_row(line, (sweep / "trials.csv").string()));
  }
  const std::string summary = read_text(sweep / "summary.json");
  const bool by_test = summary.find("\"metric\": \"test_loss\"") != std::string::npos;
  const auto loss = [&](const TrialRecord& r) { return by_test ? r.test_loss : r.val_loss; };
  double target = -1;
  if (const auto at = summary.find("\"target_loss\": "); at != std::string::npos) target = std::atof(summary.c_str() + at + 15);
  std::size_t simplest = std::numeric_limits<std::size_t>::max();
  if (const auto at = summary.find("\"simplest_meeting_target\": {\n    \"trial\": "); at != std::string::npos)
    simplest = std::size_t(std::atoll(summary.c_str() + at + 42));
  Page page;
  page.title = "sinapsis sweep " + sweep.filename().string();
  std::map<std::string, std::vector<const TrialRecord*>> by_features;
  for (const auto& r : rows) by_features[r.config.features].push_back(&r);
  if (plots) {
    page.heading(std::string("Best ") + (by_test ? "test" : "validation") + " loss over depth x width");
    page.text("Each cell is the lowest loss of the trials with that depth and width (other knobs vary within a cell)." +
              std::string(target >= 0 ? " The black line is the target contour: it encloses the cells under the target loss " +
                                            std::to_string(target) + ". The star is the simplest network under it."
                                      : ""));
    int index = 0;
    for (const auto& [features, trials] : by_features) {
      const std::string name = "heatmap-" + std::to_string(index++);
      std::map<std::pair<std::size_t, std::size_t>, double> cell;
      std::vector<std::size_t> depths, widths;
      for (const TrialRecord* r : trials) {
        const double value = r->status == "failed" ? std::numeric_limits<double>::quiet_NaN() : loss(*r);
        const auto key = std::pair{r->config.depth, r->config.width};
        if (!cell.count(key) || value < cell[key]) cell[key] = value;
        depths.push_back(r->config.depth);
        widths.push_back(r->config.width);
      }
      std::sort(depths.begin(), depths.end());
      depths.erase(std::unique(depths.begin(), depths.end()), depths.end());
      std::sort(widths.begin(), widths.end());
      widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
      std::ofstream dat(out / (name + ".dat"));
      std::ofstream marks(out / (name + "-marks.dat"));
      std::ofstream contour(out / (name + "-contour.dat"));
      // The target contour: the edges between a cell under the target and
      // one that is not (or no cell), as segments "x y dx dy".
      const auto under = [&](long d, long w) {
        if (d < 0 || w < 0 || d >= long(depths.size()) || w >= long(widths.size())) return false;
        const auto found = cell.find({depths[std::size_t(d)], widths[std::size_t(w)]});
        return found != cell.end() && found->second < target;
      };
      for (std::size_t d = 0; d < depths.size(); ++d)
        for (std::size_t w = 0; w < widths.size(); ++w) {
          const auto found = cell.find({depths[d], widths[w]});
          if (found == cell.end()) continue;
          const double v = found->second;
          dat << w << ' ' << d << ' ' << (std::isnan(v) ? std::string("NaN") : std::to_string(v)) << '\n';
          if (target < 0 || !under(long(d), long(w))) continue;
          const double x = double(w), y = double(d);
          if (!under(long(d), long(w) - 1)) contour << x - 0.5 << ' ' << y - 0.5 << " 0 1\n";
          if (!under(long(d), long(w) + 1)) contour << x + 0.5 << ' ' << y - 0.5 << " 0 1\n";
          if (!under(long(d) - 1, long(w))) contour << x - 0.5 << ' ' << y - 0.5 << " 1 0\n";
          if (!under(long(d) + 1, long(w))) contour << x - 0.5 << ' ' << y + 0.5 << " 1 0\n";
        }
      contour.close();
      dat.close();  // gnuplot reads these files: they must be complete
      for (const TrialRecord* r : trials)
        if (r->config.id == simplest) {
          const auto w = std::find(widths.begin(), widths.end(), r->config.width) - widths.begin();
          const auto d = std::find(depths.begin(), depths.end(), r->config.depth) - depths.begin();
          marks << w << ' ' << d << " 2\n";
        }
      marks.close();
      std::ostringstream xt, yt;
      for (std::size_t w = 0; w < widths.size(); ++w)
        xt << (w ? ", " : "") << '"' << (widths[w] == 0 ? std::string("none") : std::to_string(widths[w])) << "\" " << w;
      for (std::size_t d = 0; d < depths.size(); ++d) yt << (d ? ", " : "") << '"' << depths[d] << "\" " << d;
      std::ostringstream gp;
      gp << "set terminal pngcairo size 700,500 noenhanced\nset output '" << (out / (name + ".png")).string() << "'\n"
         << "set title 'inputs: " << (features.empty() ? "the data's columns" : features) << "'\n"
         << "set xlabel 'units per hidden layer'\nset ylabel 'hidden layers'\nset cblabel '"
         << (by_test ? "test" : "validation") << " loss'\n"
         << "set xtics (" << xt.str() << ")\nset ytics (" << yt.str() << ")\n"
         << "set xrange [-0.5:" << widths.size() - 0.5 << "]\nset yrange [-0.5:" << depths.size() - 0.5 << "]\n"
         << "set palette rgb 33,13,10\nunset key\n"
         << "plot '" << (out / (name + ".dat")).string() << "' using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 lc palette, '"
         << (out / (name + ".dat")).string() << "' using 1:2:(sprintf('%.3f', $3)) with labels font ',9'";
      if (fs::file_size(out / (name + "-contour.dat")) > 0)
        gp << ", '" << (out / (name + "-contour.dat")).string()
           << "' using 1:2:3:4 with vectors nohead lw 3 lc rgb 'black'";
      if (fs::file_size(out / (name + "-marks.dat")) > 0)
        gp << ", '" << (out / (name + "-marks.dat")).string() << "' using 1:2 with points pt 3 ps 4 lw 3 lc rgb 'black'";
      gp << "\n";
      std::ofstream(out / (name + ".gp")) << gp.str();
      if (run_gnuplot(out / (name + ".gp"), notes))
        page.image(name + ".png", "loss over depth and width for inputs " + features);
    }
  }
  page.heading("Summary");
  page.pre(summary);
  page.heading("Configuration (sweep.args)");
  page.pre(read_text(sweep / "sweep.args"));
  page.heading("Trials");
  std::string table = "<table>\n<tr><th>trial</th><th>features</th><th>layers</th><th>width</th><th>inputs</th>"
                      "<th>parameters</th><th>epochs</th><th>status</th><th>val loss</th><th>test loss</th>"
                      "<th>test accuracy</th><th>seconds</th></tr>\n";
  const auto num = [](double v) {
    if (std::isnan(v)) return std::string("");
    std::ostringstream t;
    t.precision(4);
    t << v;
    return t.str();
  };
  for (const auto& r : rows)
    table += "<tr><td>" + std::to_string(r.config.id) + "</td><td>" + html_escape(r.config.features) + "</td><td>" +
             std::to_string(r.config.depth) + "</td><td>" + std::to_string(r.config.width) + "</td><td>" +
             std::to_string(r.inputs) + "</td><td>" + std::to_string(r.parameters) + "</td><td>" +
             std::to_string(r.epochs_run) + "</td><td>" + r.status + (r.config.id == simplest ? " (simplest)" : "") +
             "</td><td>" + num(r.val_loss) + "</td><td>" + num(r.test_loss) + "</td><td>" + num(r.test_accuracy) +
             "</td><td>" + num(r.seconds) + "</td></tr>\n";
  page.body += table + "</table>\n";
  AtomicFile html((out / "index.html").string());
  html.stream() << page.html();
  html.commit();
  return kExitSuccess;
}

}  // namespace

int report_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis report options");
  std::string dir;
  options.add_options()("dir", po::value(&dir)->required(), "a run directory (sinapsis train --out) or a sweep directory");
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map values;
  if (!parse("report", args, options, values, "RUN_DIR | SWEEP_DIR", &positional)) return kExitSuccess;
  const fs::path in(dir);
  const bool is_sweep = fs::exists(in / "trials.csv");
  if (!is_sweep && !fs::exists(in / "metrics.csv"))
    throw UsageError("report: " + dir + " is neither a run directory (metrics.csv) nor a finished sweep (trials.csv)");
  const fs::path out = in / "report";
  fs::create_directories(out);
  std::vector<std::string> notes;
  const bool plots = have_gnuplot();
  if (!plots) notes.push_back("gnuplot not found (apt-get install gnuplot-nox): the report has no plots");
  is_sweep ? sweep_report(in, out, plots, notes) : run_report(in, out, plots, notes);
  for (const auto& note : notes) std::cerr << "sinapsis report: " << note << "\n";
  std::cout << "wrote " << (out / "index.html").string() << std::endl;
  return kExitSuccess;
}

}  // namespace sinapsis::cli
