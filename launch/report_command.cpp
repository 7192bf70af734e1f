// sinapsis report RUN_DIR | SWEEP_DIR | PLAN_FILE: an HTML page with plots,
// written to DIR/report/index.html (for a plan file F.csv or F.json beside
// it, F-report/index.html) with its PNG images beside it.
//   a run:   loss (and, where measured, accuracy) curves per epoch with the
//            best epoch marked; for 2-input data, the model's decision
//            surface over the input plane with the training and test points,
//            as the Playground draws it; the configuration and the summary.
//            A run that has not finished (training now, stopped, failed or
//            killed: run_state) is reported as far as it got.
//   a sweep: a heat map of the loss over depth x width per feature set
//            (or over any two knobs, --heat-map lr,optimizer), the cells
//            under --target-loss marked and the simplest network starred;
//            the trials table; the summary.
//   a plan:  (sinapsis plan --out) the predicted scaling efficiency and
//            throughput over the rank counts, and the plan itself.
// Everything the report reads is read and checked first (report_inputs.hpp);
// a bad file is one error line and no report. The report is built in
// DIR/report.tmp.PID and renamed into place whole, so a failure leaves the
// earlier report (or none) as it was.
// Plots are drawn by gnuplot (Debian's gnuplot-nox), run without a shell on
// scripts written beside them that name their files relatively (so nothing
// in a directory's name reaches a script). Without gnuplot the page is
// written without images, and one line says why.
#include <unistd.h>  // getpid

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "core/number_text.hpp"
#include "core/network.hpp"
#include "io/atomic_file.hpp"
#include "launch/options.hpp"
#include "launch/report_inputs.hpp"
#include "launch/subprocess.hpp"
#include "launch/text_file.hpp"

namespace sinapsis::cli {
namespace {

namespace fs = std::filesystem;

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

// A gnuplot string literal: single quotes, a quote inside doubled; control
// characters (a line break would end the command) become spaces.
std::string gnuplot_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') out += "''";
    else out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out + "'";
}

// A file of the report, written whole or a DataError naming it.
void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw DataError(file.string() + ": write failed (disk full?)");
}

// The report under construction: DIR/NAME.tmp.PID, put in place of
// DIR/NAME (NAME: "report" unless given) by publish(). Whatever is left under the temporary name when it
// is destroyed goes: a half-built report (an error) or the replaced one.
class ReportDirectory {
 public:
  explicit ReportDirectory(const fs::path& dir, const std::string& name = "report")
      : final_(dir / name), building_(dir / (name + ".tmp." + std::to_string(::getpid()))) {
    std::error_code error;
    fs::remove_all(building_, error);  // a leftover of a killed report with our pid
    if (!fs::create_directory(building_, error) || error)
      throw DataError(building_.string() + ": cannot be created" + (error ? ": " + error.message() : std::string()));
  }
  ReportDirectory(const ReportDirectory&) = delete;
  ReportDirectory& operator=(const ReportDirectory&) = delete;
  ~ReportDirectory() {
    std::error_code ignored;
    fs::remove_all(building_, ignored);  // a report that was never published
  }
  const fs::path& path() const { return building_; }

  // The finished report replaces the previous one in one step (an atomic
  // exchange where the file system has it, else two renames).
  void publish() { replace_directory(building_.string(), final_.string()); }

 private:
  fs::path final_, building_;
};

// gnuplot, drawing PNGs from scripts in the report directory.
class Plotter {
 public:
  Plotter(std::string program, fs::path dir, std::vector<std::string>& notes)
      : program_(std::move(program)), dir_(std::move(dir)), notes_(notes) {}

  // Writes NAME.gp (a pngcairo terminal of `size`, output NAME.png, then
  // `body`) and runs it. A plot that fails or draws no image throws one line
  // naming it; warnings become one note.
  void draw(const std::string& name, const std::string& what, const std::string& size, const std::string& body) {
    const std::string script = name + ".gp", image = name + ".png";
    write_file(dir_ / script, "set terminal pngcairo size " + size + " noenhanced\nset output '" + image + "'\n" + body);
    const ProgramResult result = run_program(program_, {script}, dir_.string());
    std::error_code error;
    const auto bytes = fs::file_size(dir_ / image, error);
    if (result.status != 0 || error || bytes == 0) {
      const std::string said = one_line(result.output, true);
      throw std::runtime_error("the " + what + " plot failed: gnuplot " +
                               (result.status != 0 ? "exited with status " + std::to_string(result.status)
                                                   : "drew no " + image) +
                               (said.empty() ? "" : ": " + said));
    }
    if (const std::string said = one_line(result.output, false); !said.empty())
      notes_.push_back("gnuplot warned on the " + what + " plot: " + said);
  }

 private:
  // gnuplot's output in one line: the error it ended on (its last line), or
  // the first warning and how many more lines followed.
  static std::string one_line(const std::string& output, bool failed) {
    std::vector<std::string> lines;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);) {
      line.erase(0, line.find_first_not_of(" \t"));
      if (!line.empty() && line != "^") lines.push_back(line);
    }
    if (lines.empty()) return "";
    if (failed) return lines.back();
    return lines.front() + (lines.size() > 1 ? " (and " + std::to_string(lines.size() - 1) + " more lines)" : "");
  }

  std::string program_;
  fs::path dir_;
  std::vector<std::string>& notes_;
};

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


// What the page-building functions share: where the files go, gnuplot (none:
// a page without images), the page, and the notes for the terminal.
struct Report {
  fs::path dir;
  std::optional<Plotter> plotter;
  Page page;
  std::vector<std::string>& notes;
};

std::string number_text(double value) {
  return std::isfinite(value) ? significant(value, 9) : "NaN";  // gnuplot's undefined value
}

// A gnuplot range [lo:hi], widened when it is one value (gnuplot warns on an
// empty range).
std::string range_text(double lo, double hi) {
  if (lo == hi) {
    const double pad = std::max(std::abs(lo) * 0.05, 0.01);
    lo -= pad;
    hi += pad;
  }
  return "[" + number_text(lo) + ":" + number_text(hi) + "]";
}

// Loss per epoch for the series metrics.csv has values for: train loss
// always; validation and test loss, and their accuracy on a second axis,
// where measured. gnuplot reads a copy of those columns (loss.dat).
void loss_curves(const RunInputs& run, Report& report) {
  const MetricsTable& metrics = run.metrics;
  if (metrics.rows.empty()) {
    report.page.text("No epoch has finished yet: metrics.csv has no rows.");
    return;
  }
  struct Series {
    const char* column;
    const char* title;
    const char* color;  // a part's accuracy in its loss's color, dashed
    bool accuracy;
  };
  static constexpr Series kSeries[] = {{"train_loss", "train loss", "#9400d3", false},
                                       {"val_loss", "validation loss", "#009e73", false},
                                       {"test_loss", "test loss", "#0072b2", false},
                                       {"train_accuracy", "train accuracy", "#9400d3", true},
                                       {"val_accuracy", "validation accuracy", "#009e73", true},
                                       {"test_accuracy", "test accuracy", "#0072b2", true}};
  std::vector<std::pair<Series, std::vector<double>>> shown;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool accuracy = false;
  for (const Series& series : kSeries) {
    std::vector<double> values = metrics.column(series.column);
    if (std::none_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) continue;
    for (const double v : values)
      if (!series.accuracy && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    accuracy |= series.accuracy;
    shown.emplace_back(series, std::move(values));
  }
  if (!std::isfinite(lo)) {  // a run that diverged in its first epoch
    report.notes.push_back("no loss plot: metrics.csv has no finite loss");
    report.page.text("No loss plot: metrics.csv has no finite loss.");
    return;
  }
  if (!report.plotter) return;
  const std::vector<double> epochs = metrics.column("epoch");
  std::ostringstream dat;
  dat << "# epoch";
  for (const auto& [series, values] : shown) dat << ' ' << series.column;
  dat << '\n';
  for (std::size_t r = 0; r < epochs.size(); ++r) {
    dat << number_text(epochs[r]);
    for (const auto& [series, values] : shown) dat << ' ' << number_text(values[r]);
    dat << '\n';
  }
  write_file(report.dir / "loss.dat", dat.str());

  std::ostringstream gp;
  gp << "set key outside right top\nset xlabel 'epoch'\nset ylabel 'loss'\nset grid\n";
  // One epoch is one point: drawn as a point, in a range gnuplot accepts.
  const bool one_epoch = epochs.size() == 1;
  if (one_epoch) gp << "set xrange [" << number_text(epochs[0] - 1) << ":" << number_text(epochs[0] + 1) << "]\n";
  if (lo == hi) gp << "set yrange " << range_text(lo, hi) << "\n";
  if (accuracy) gp << "set y2label 'accuracy'\nset y2tics\nset ytics nomirror\nset y2range [0:1]\n";
  if (run.best_epoch >= epochs.front() && run.best_epoch <= epochs.back()) {
    const bool kept = run.config.patience > 0 && run.config.restore_best;
    const std::string label = kept ? "early stopping kept epoch " + std::to_string(run.best_epoch)
                                   : "best " + (run.best_monitor.empty() ? std::string("epoch") : run.best_monitor) +
                                         ": epoch " + std::to_string(run.best_epoch);
    gp << "set arrow from " << run.best_epoch << ", graph 0 to " << run.best_epoch
       << ", graph 1 nohead dt 2 lc rgb 'black'\nset label " << gnuplot_quote(label) << " at " << run.best_epoch
       << ", graph 0.95 offset 0.5,0\n";
  }
  gp << "plot ";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const Series& series = shown[i].first;
    gp << (i ? ", " : "") << "'loss.dat' using 1:" << i + 2 << (series.accuracy ? " axes x1y2" : "") << " with "
       << (one_epoch ? (series.accuracy ? "points pt 6 ps 1.5" : "points pt 7 ps 1.5")
                     : (series.accuracy ? "lines lw 2 dt 2" : "lines lw 2"))
       << " lc rgb '" << series.color << "' title '" << series.title << "'";
  }
  gp << "\n";
  report.plotter->draw("loss", "loss", "900,500", gp.str());
  report.page.image("loss.png", "loss per epoch");
}

// The model's output over a 100 x 100 grid spanning [lo, hi] (gnuplot's
// `with image` data): per point x1 x2 and the positive class's probability
// (or the output).
std::string surface_text(const ModelFile& model, const double lo[2], const double hi[2]) {
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
  const std::size_t k = arch.outputs();
  std::ostringstream surface;
  for (std::size_t i = 0; i < kGrid; ++i) {
    for (std::size_t j = 0; j < kGrid; ++j) {
      const std::size_t r = i * kGrid + j;
      surface << number_text(grid.features(r, 0)) << ' ' << number_text(grid.features(r, 1)) << ' '
              << number_text(y.data[r * k + (k > 1 ? 1 : 0)]) << '\n';
    }
    surface << '\n';
  }
  return surface.str();
}

// The model's output over the input plane, with the training and test points
// (for data with two raw input columns).
void decision_surface(const RunInputs& run, Report& report) {
  if (!run.model) {
    report.page.text("No decision surface: the run has no model.h5" +
                     std::string(run.summary_text ? "." : " yet (it has not finished)."));
    return;
  }
  const ModelFile& model = *run.model;
  DataOptions o = run.config.data;
  o.val_data.clear();  // only the training and test points are drawn
  o.class_labels = model.loss != Loss::mse;
  PreparedData data;
  try {
    data = read_training_data(o, 0, 1);  // the run's split, raw columns
  } catch (const std::exception& e) {
    report.notes.push_back("no decision surface: " + std::string(e.what()));
    report.page.text("No decision surface: " + std::string(e.what()));
    return;
  }
  if (data.train.dimension() != 2 || data.train.size() == 0) {
    report.page.text("No decision surface: it is drawn for data with two input columns; " + o.data + " has " +
                     std::to_string(data.train.dimension()) + ".");
    return;
  }
  if (!report.plotter) return;
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
  for (int c = 0; c < 2; ++c)
    if (lo[c] == hi[c]) lo[c] -= 0.5, hi[c] += 0.5;  // all points on a line: a plane around it
  write_file(report.dir / "surface.dat", surface_text(model, lo, hi));
  const auto points = [&](const Dataset& d, const char* file) {
    std::ostringstream p;
    for (std::size_t r = 0; r < d.size(); ++r)
      p << number_text(d.features(r, 0)) << ' ' << number_text(d.features(r, 1)) << ' '
        << (d.labels.empty() ? number_text(d.targets(r, 0)) : std::to_string(d.labels[r])) << '\n';
    write_file(report.dir / file, p.str());
  };
  points(data.train, "train.dat");
  if (data.test) points(*data.test, "test.dat");
  std::ostringstream gp;
  gp << "set palette defined (0 '#f59322', 0.5 '#e8eaeb', 1 '#0877bd')\nset size ratio -1\n"
     << "set xrange " << range_text(lo[0], hi[0]) << "\nset yrange " << range_text(lo[1], hi[1]) << "\n"
     << "set xlabel 'x1'\nset ylabel 'x2'\nset key outside bottom horizontal\n"
     << "plot 'surface.dat' using 1:2:3 with image pixels notitle, "
     << "'train.dat' using 1:2 with points pt 7 ps 0.9 lc rgb 'white' notitle, "
     << "'train.dat' using 1:2:3 with points pt 7 ps 0.6 lc palette title 'training points'";
  if (data.test) gp << ", 'test.dat' using 1:2:3 with points pt 6 ps 0.8 lc rgb 'black' title 'test points'";
  gp << "\n";
  report.plotter->draw("surface", "decision surface", "700,620", gp.str());
  report.page.image("surface.png", "the model's output over the input plane with the training and test points");
}

// What a report of an unfinished run should say first, or nothing (finished).
std::optional<std::string> run_state(const RunInputs& run, const std::string& dir) {
  const std::string so_far = "the report shows its " + std::to_string(run.metrics.rows.size()) + " epochs so far";
  const std::string resume = run.has_checkpoint ? "; continue it with sinapsis train --resume " + dir : "";
  if (run.writer) return dir + " is training (" + *run.writer + "): " + so_far;
  if (run.status == "running")
    return dir + " says it is running, but no job holds it: it ended without finishing (killed, or its node was " +
           "lost)" + resume + "; " + so_far;
  if (run.status == "failed") return dir + " failed: " + run.error + resume;
  if (run.status == "stopped" || !run.summary_text)
    return dir + " has not finished: it was stopped before the end" + resume + "; " + so_far;
  return std::nullopt;
}

// The kept model's confusion matrix (summary.json): a picture, each cell
// colored by the share of its true class (row) and labeled with its count,
// and, for up to 30 classes, the table of counts.
void confusion_matrix(const RunInputs& run, Report& report) {
  const RunInputs::Confusion& c = run.confusion;
  const std::size_t k = c.counts.size();
  const std::string part = c.part == "test" ? "test" : "validation";
  report.page.text("The model kept, on the " + part + " data: rows are the true class, columns the predicted one.");
  if (report.plotter) {
    std::ostringstream dat, tics;
    for (std::size_t t = 0; t < k; ++t) {
      std::size_t row = 0;
      for (const std::size_t n : c.counts[t]) row += n;
      for (std::size_t p = 0; p < k; ++p)
        dat << p << ' ' << t << ' ' << number_text(row > 0 ? double(c.counts[t][p]) / double(row) : 0.0) << ' '
            << c.counts[t][p] << '\n';
    }
    write_file(report.dir / "confusion.dat", dat.str());
    const bool named = k <= 30;
    for (std::size_t i = 0; named && i < k; ++i) tics << (i ? ", " : "") << gnuplot_quote(c.class_names[i]) << ' ' << i;
    std::ostringstream gp;
    gp << "set title " << gnuplot_quote("confusion matrix, " + part + " data") << "\n"
       << "set xlabel 'predicted class'\nset ylabel 'true class'\nset cblabel 'share of the true class'\n"
       << (named ? "set xtics (" + tics.str() + ") rotate by -45\nset ytics (" + tics.str() + ")\n" : "")
       << "set xrange [-0.5:" << double(k) - 0.5 << "]\nset yrange [" << double(k) - 0.5 << ":-0.5]\n"
       << "set cbrange [0:1]\nset palette defined (0 'white', 1 '#08519c')\nunset key\n"
       << "plot 'confusion.dat' using 1:2:3 with image";
    if (k <= 30) gp << ", 'confusion.dat' using 1:2:(sprintf('%d', $4)) with labels font ',9'";
    gp << "\n";
    report.plotter->draw("confusion", "confusion matrix", "600,550", gp.str());
    report.page.image("confusion.png", "confusion matrix on the " + part + " data");
  }
  if (k > 30) return;
  std::string table = "<table><tr><th>true \\ predicted</th>";
  for (const auto& name : c.class_names) table += "<th>" + html_escape(name) + "</th>";
  table += "</tr>\n";
  for (std::size_t t = 0; t < k; ++t) {
    table += "<tr><th>" + html_escape(c.class_names[t]) + "</th>";
    for (const std::size_t n : c.counts[t]) table += "<td>" + std::to_string(n) + "</td>";
    table += "</tr>\n";
  }
  report.page.body += table + "</table>\n";
}

void run_page(const RunInputs& run, Report& report) {
  report.page.heading("Loss per epoch");
  loss_curves(run, report);
  report.page.heading("Decision surface");
  decision_surface(run, report);
  if (!run.confusion.part.empty()) {
    report.page.heading("Confusion matrix");
    confusion_matrix(run, report);
  }
  report.page.heading("Summary");
  if (run.summary_text)
    report.page.pre(*run.summary_text);
  else
    report.page.text("The run has not finished: no summary.json yet. Its checkpoint.h5 continues it: "
                     "sinapsis train --resume RUN_DIR.");
  report.page.heading("Configuration");
  report.page.pre(run.config_text);
}

// A knob a sweep's heat map can be drawn over: depth, width, features or a
// column of kKnobs ("lr_schedule"; the option's spelling, "lr-schedule",
// too). Its axis label and each trial's value on it.
struct HeatAxis {
  std::string name;  // the trials.csv column

  std::string label() const {
    if (name == "depth") return "hidden layers";
    if (name == "width") return "units per hidden layer";
    return name;
  }
  std::string value(const TrialRecord& r) const {
    if (name == "depth") return std::to_string(r.config.depth);
    if (name == "width") return r.config.depth == 0 ? "none" : std::to_string(r.config.width);
    if (name == "features") return r.config.features.empty() ? "the data's columns" : r.config.features;
    for (const Knob& knob : kKnobs)
      if (knob.column == name) return (r.config.*knob.value).empty() ? "default" : r.config.*knob.value;
    return "";
  }
};

std::vector<std::string> heat_axis_names() {
  std::vector<std::string> names{"depth", "width", "features"};
  for (const Knob& knob : kKnobs) names.push_back(knob.column);
  return names;
}

// "lr,optimizer" -> the x (columns) and y (rows) axes; UsageError naming
// the option for anything else.
std::pair<HeatAxis, HeatAxis> parse_heat_axes(const std::string& text) {
  std::vector<std::string> names;
  std::string list;
  for (const auto& name : heat_axis_names()) list += (list.empty() ? "" : ", ") + name;
  for (std::string name : split_list(text, ',')) {
    std::replace(name.begin(), name.end(), '-', '_');
    const auto known = heat_axis_names();
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw UsageError(option_text("heat-map", text) + ": unknown knob '" + name + "' (expected two of " + list + ")");
    names.push_back(name);
  }
  if (names.size() != 2 || names[0] == names[1])
    throw UsageError(option_text("heat-map", text) + " is not two different knobs X,Y (of " + list + ")");
  return {HeatAxis{names[0]}, HeatAxis{names[1]}};
}

// The values of `axis` over `trials`, in the order of the axis: numbers
// ascending (after "none" and "default"), anything else as the grid first
// has them.
std::vector<std::string> axis_values(const HeatAxis& axis, const std::vector<const TrialRecord*>& trials) {
  std::vector<std::string> values;
  for (const TrialRecord* r : trials)
    if (const std::string v = axis.value(*r); std::find(values.begin(), values.end(), v) == values.end())
      values.push_back(v);
  const auto number = [](const std::string& v) -> std::optional<double> {
    double x = 0;
    std::size_t used = 0;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    return used == v.size() ? std::optional<double>(x) : std::nullopt;
  };
  const bool numeric = std::all_of(values.begin(), values.end(), [&](const std::string& v) {
    return v == "none" || v == "default" || number(v).has_value();
  });
  if (numeric)
    std::stable_sort(values.begin(), values.end(), [&](const std::string& a, const std::string& b) {
      const auto x = number(a), y = number(b);
      if (x.has_value() != y.has_value()) return !x.has_value();  // "none", "default" first
      return x && *x < *y;
    });
  return values;
}

// The axes a sweep's heat map is drawn over when --heat-map does not say:
// depth x width if either varies (the lecture's exercise), else the first
// two knobs that vary (in kKnobs' order), else depth x width.
std::pair<HeatAxis, HeatAxis> default_heat_axes(const SweepInputs& sweep) {
  std::vector<const TrialRecord*> all;
  for (const auto& r : sweep.trials) all.push_back(&r);
  const auto varies = [&](const std::string& name) { return axis_values(HeatAxis{name}, all).size() > 1; };
  const std::pair<HeatAxis, HeatAxis> architecture{HeatAxis{"width"}, HeatAxis{"depth"}};
  if (varies("depth") || varies("width")) return architecture;
  std::vector<std::string> varying;
  for (const Knob& knob : kKnobs)
    if (varies(knob.column)) varying.push_back(knob.column);
  if (varying.size() >= 2) return {HeatAxis{varying[0]}, HeatAxis{varying[1]}};
  if (varying.size() == 1) return {HeatAxis{varying[0]}, HeatAxis{"depth"}};
  return architecture;
}

// One heat map of `trials` (a feature set's, or all): the best loss of each
// x x y cell, the target contour and the simplest network's star.
void heat_map(const SweepInputs& sweep, const std::pair<HeatAxis, HeatAxis>& axes, const std::string& name,
              const std::string& title, const std::vector<const TrialRecord*>& trials, Report& report) {
  const auto& [x_axis, y_axis] = axes;
  const auto loss = [&](const TrialRecord& r) { return sweep.by_test ? r.test_loss : r.val_loss; };
  const std::vector<std::string> xs = axis_values(x_axis, trials), ys = axis_values(y_axis, trials);
  const auto place = [&](const TrialRecord& r) {
    return std::pair{long(std::find(ys.begin(), ys.end(), y_axis.value(r)) - ys.begin()),
                     long(std::find(xs.begin(), xs.end(), x_axis.value(r)) - xs.begin())};
  };
  std::map<std::pair<long, long>, double> cell;  // (row, column) -> lowest loss
  for (const TrialRecord* r : trials) {
    const double value = r->status == "failed" ? std::numeric_limits<double>::quiet_NaN() : loss(*r);
    const auto key = place(*r);
    if (!cell.count(key) || value < cell[key] || std::isnan(cell[key])) cell[key] = value;
  }
  if (std::none_of(cell.begin(), cell.end(), [](const auto& c) { return std::isfinite(c.second); })) {
    report.page.text(title + ": no trial has a loss to map.");
    return;
  }
  const double target = sweep.target_loss;
  // The target contour: the edges between a cell under the target and one
  // that is not (or no cell), as segments "x y dx dy".
  const auto under = [&](long row, long column) {
    const auto found = cell.find({row, column});
    return found != cell.end() && found->second < target;
  };
  std::ostringstream dat, contour, marks;
  for (const auto& [key, value] : cell) {
    const auto [row, column] = key;
    dat << column << ' ' << row << ' ' << number_text(value) << '\n';
    if (target < 0 || !under(row, column)) continue;
    const double x = double(column), y = double(row);
    if (!under(row, column - 1)) contour << x - 0.5 << ' ' << y - 0.5 << " 0 1\n";
    if (!under(row, column + 1)) contour << x + 0.5 << ' ' << y - 0.5 << " 0 1\n";
    if (!under(row - 1, column)) contour << x - 0.5 << ' ' << y - 0.5 << " 1 0\n";
    if (!under(row + 1, column)) contour << x - 0.5 << ' ' << y + 0.5 << " 1 0\n";
  }
  for (const TrialRecord* r : trials)
    if (sweep.simplest == r->config.id) {
      const auto [row, column] = place(*r);
      marks << column << ' ' << row << " 2\n";
    }
  write_file(report.dir / (name + ".dat"), dat.str());
  const auto tics = [](const std::vector<std::string>& values) {
    std::string text;
    for (std::size_t i = 0; i < values.size(); ++i)
      text += (i ? ", " : "") + gnuplot_quote(values[i]) + " " + std::to_string(i);
    return text;
  };
  std::ostringstream gp;
  gp << "set title " << gnuplot_quote(title) << "\n"
     << "set xlabel " << gnuplot_quote(x_axis.label()) << "\nset ylabel " << gnuplot_quote(y_axis.label())
     << "\nset cblabel '" << (sweep.by_test ? "test" : "validation") << " loss'\n"
     << "set xtics (" << tics(xs) << ")\nset ytics (" << tics(ys) << ")\n"
     << "set xrange [-0.5:" << double(xs.size()) - 0.5 << "]\nset yrange [-0.5:" << double(ys.size()) - 0.5
     << "]\nset palette rgb 33,13,10\nunset key\n"
     << "plot '" << name << ".dat' using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 lc palette, '" << name
     << ".dat' using 1:2:(sprintf('%.3f', $3)) with labels font ',9'";
  if (!contour.str().empty()) {
    write_file(report.dir / (name + "-contour.dat"), contour.str());
    gp << ", '" << name << "-contour.dat' using 1:2:3:4 with vectors nohead lw 3 lc rgb 'black'";
  }
  if (!marks.str().empty()) {
    write_file(report.dir / (name + "-marks.dat"), marks.str());
    gp << ", '" << name << "-marks.dat' using 1:2 with points pt 3 ps 4 lw 3 lc rgb 'black'";
  }
  gp << "\n";
  report.plotter->draw(name, "heat map of " + title, "700,500", gp.str());
  report.page.image(name + ".png", "loss over " + y_axis.label() + " and " + x_axis.label() + ", " + title);
}

// The trials, with the knobs some trial set.
std::string trials_table(const SweepInputs& sweep) {
  std::vector<const Knob*> knobs;
  for (const Knob& knob : kKnobs)
    if (std::any_of(sweep.trials.begin(), sweep.trials.end(),
                    [&](const TrialRecord& r) { return !(r.config.*knob.value).empty(); }))
      knobs.push_back(&knob);
  std::string table = "<table>\n<tr><th>trial</th><th>features</th><th>layers</th><th>width</th>";
  for (const Knob* knob : knobs) table += "<th>" + html_escape(knob->column) + "</th>";
  table += "<th>inputs</th><th>parameters</th><th>epochs</th><th>status</th><th>val loss</th><th>test loss</th>"
           "<th>test accuracy</th><th>seconds</th></tr>\n";
  const auto num = [](double v) {
    if (std::isnan(v)) return std::string("");
    std::ostringstream t;
    t.precision(4);
    t << v;
    return t.str();
  };
  for (const auto& r : sweep.trials) {
    table += "<tr><td>" + std::to_string(r.config.id) + "</td><td>" + html_escape(r.config.features) + "</td><td>" +
             std::to_string(r.config.depth) + "</td><td>" + std::to_string(r.config.width) + "</td>";
    for (const Knob* knob : knobs) table += "<td>" + html_escape(r.config.*knob->value) + "</td>";
    table += "<td>" + std::to_string(r.inputs) + "</td><td>" + std::to_string(r.parameters) + "</td><td>" +
             std::to_string(r.epochs_run) + "</td><td>" + html_escape(r.status) +
             (sweep.simplest == r.config.id ? " (simplest)" : "") + "</td><td>" + num(r.val_loss) + "</td><td>" +
             num(r.test_loss) + "</td><td>" + num(r.test_accuracy) + "</td><td>" + num(r.seconds) + "</td></tr>\n";
  }
  return table + "</table>\n";
}

void sweep_page(const SweepInputs& sweep, const std::pair<HeatAxis, HeatAxis>& axes, Report& report) {
  // One map per feature set, unless the features are an axis.
  const bool per_features = axes.first.name != "features" && axes.second.name != "features";
  std::map<std::string, std::vector<const TrialRecord*>> groups;
  for (const auto& r : sweep.trials) groups[per_features ? r.config.features : ""].push_back(&r);
  report.page.heading(std::string("Best ") + (sweep.by_test ? "test" : "validation") + " loss over " +
                      axes.second.name + " x " + axes.first.name);
  if (report.plotter) {
    report.page.text("Each cell is the lowest loss of the trials with that " + axes.second.name + " and " +
                     axes.first.name + " (other knobs vary within a cell; sinapsis report --heat-map X,Y draws it "
                     "over other knobs)." +
                     std::string(sweep.target_loss >= 0
                                     ? " The black line is the target contour: it encloses the cells under the "
                                       "target loss " + std::to_string(sweep.target_loss) +
                                           ". The star is the simplest network under it."
                                     : ""));
    int index = 0;
    for (const auto& [features, trials] : groups)
      heat_map(sweep, axes, "heatmap-" + std::to_string(index++),
               per_features ? "inputs: " + (features.empty() ? std::string("the data's columns") : features)
                            : std::string("all trials"),
               trials, report);
  }
  if (sweep.trials.empty()) report.page.text("trials.csv has no trials.");
  report.page.heading("Summary");
  report.page.pre(sweep.summary_text);
  if (sweep.args_text) {
    report.page.heading("Configuration (sweep.args)");
    report.page.pre(*sweep.args_text);
  }
  report.page.heading("Trials");
  report.page.body += trials_table(sweep);
}

// Efficiency over the rank counts (log scale), against perfect scaling and
// the 90 % the plan's last column aims at; and samples per second against
// linear scaling from the first row.
void plan_page(const PlanInputs& plan, const std::string& name, Report& report) {
  report.page.heading("Scaling efficiency");
  if (report.plotter) {
    std::ostringstream dat;
    dat << "# ranks efficiency samples_per_second ideal_samples_per_second\n";
    const double per_rank = plan.samples_per_second.front() / plan.ranks.front();
    for (std::size_t i = 0; i < plan.ranks.size(); ++i)
      dat << number_text(plan.ranks[i]) << ' ' << number_text(plan.efficiency[i]) << ' '
          << number_text(plan.samples_per_second[i]) << ' ' << number_text(per_rank * plan.ranks[i]) << '\n';
    write_file(report.dir / "plan.dat", dat.str());
    const double lo = plan.ranks.front(), hi = plan.ranks.back();
    const std::string xrange = lo == hi ? range_text(lo * 0.5, hi * 2) : range_text(lo, hi);
    const double top = std::max(1.05, *std::max_element(plan.efficiency.begin(), plan.efficiency.end()) * 1.05);
    const std::string points = plan.ranks.size() == 1 ? "points pt 7 ps 1.5" : "linespoints pt 7 lw 2";
    std::ostringstream gp;
    gp << "set title " << gnuplot_quote(name) << "\nset logscale x 2\nset xrange " << xrange
       << "\nset yrange [0:" << number_text(top) << "]\nset xlabel 'ranks'\nset ylabel 'efficiency (speed-up / ranks)'\n"
       << "set grid\nset key outside right top\n"
       << "plot 'plan.dat' using 1:2 with " << points << " lc rgb '#0072b2' title 'predicted', "
       << "1 with lines dt 2 lc rgb 'black' title 'perfect', 0.9 with lines dt 3 lc rgb '#d55e00' title '90 %'\n";
    report.plotter->draw("efficiency", "efficiency", "900,500", gp.str());
    report.page.image("efficiency.png", "predicted scaling efficiency over the rank counts");
    std::ostringstream rate;
    rate << "set title " << gnuplot_quote(name) << "\nset logscale xy\nset xrange " << xrange
         << "\nset xlabel 'ranks'\nset ylabel 'samples per second'\nset grid\nset key outside right top\n"
         << "plot 'plan.dat' using 1:3 with " << points << " lc rgb '#0072b2' title 'predicted', "
         << "'plan.dat' using 1:4 with lines dt 2 lc rgb 'black' title 'linear from the first row'\n";
    report.plotter->draw("throughput", "throughput", "900,500", rate.str());
    report.page.image("throughput.png", "predicted samples per second over the rank counts");
  }
  report.page.heading("Plan");
  report.page.pre(plan.text);
}

// The directory's own name, for the page title ("runs/a/" -> "a").
std::string directory_name(const fs::path& dir) {
  const fs::path normal = fs::absolute(dir).lexically_normal();
  return (normal.has_filename() ? normal : normal.parent_path()).filename().string();
}

struct ReportOptions {
  std::string dir, heat_map;
};

void describe(po::options_description& o, ReportOptions& v) {
  o.add_options()("dir", po::value(&v.dir)->required(),
                  "a run directory (sinapsis train --out), a sweep directory, or a plan file (sinapsis plan --out)")
    ("heat-map", po::value(&v.heat_map),
     "a sweep: the knobs X,Y its heat map is drawn over, of depth, width, features and the swept options "
     "(e.g. lr,optimizer; default: width,depth, or the first two swept knobs if the architecture is fixed)");
}

// The report of a plan file: FILE's directory / STEM-report.
int plan_report(const fs::path& file) {
  const PlanInputs plan = read_plan_inputs(file);  // read and checked before anything is written
  std::vector<std::string> notes;
  const std::optional<std::string> gnuplot = find_program("gnuplot");
  if (!gnuplot) notes.push_back("gnuplot not found (apt-get install gnuplot-nox): the report has no plots");
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const std::string name = file.stem().string() + "-report";
  ReportDirectory out(dir, name);
  Report report{out.path(), std::nullopt, {}, notes};
  if (gnuplot) report.plotter.emplace(*gnuplot, out.path(), notes);
  report.page.title = "sinapsis plan " + file.filename().string();
  plan_page(plan, file.filename().string(), report);
  AtomicFile html((out.path() / "index.html").string());
  html.stream() << report.page.html();
  html.commit();
  out.publish();
  for (const auto& note : notes) std::cerr << "sinapsis report: " << note << "\n";
  std::cout << "wrote " << (dir / name / "index.html").string() << std::endl;
  return kExitSuccess;
}

}  // namespace

std::vector<CommandOptions> report_options() { return {described<ReportOptions>("report")}; }

int report_command(const Args& args, Communicator& /*comm*/) {
  po::options_description options("sinapsis report options");
  ReportOptions v;
  describe(options, v);
  const std::string& dir = v.dir;
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map values;
  if (!parse("report", args, options, values, "RUN_DIR | SWEEP_DIR | PLAN_FILE", &positional)) return kExitSuccess;
  const fs::path in(dir);
  std::error_code error;
  if (fs::is_regular_file(in, error)) {
    if (!v.heat_map.empty()) throw UsageError("report: --heat-map is for a sweep directory; " + dir + " is a plan file");
    return plan_report(in);
  }
  const bool is_sweep = present(in / "trials.csv");
  if (!is_sweep && !present(in / "metrics.csv")) {
    if (const auto writer = run_writer(in.string()))
      throw UsageError("report: " + dir + " is being written by " + *writer +
                       " and has no epoch to show yet (metrics.csv comes with the end of the first epoch)");
    throw UsageError("report: " + dir + " is neither a run directory (metrics.csv), a finished sweep (trials.csv) nor a plan file");
  }
  // Everything is read and checked before anything is written.
  std::optional<RunInputs> run;
  std::optional<SweepInputs> sweep;
  if (!v.heat_map.empty() && !is_sweep)
    throw UsageError("report: --heat-map is for a sweep directory; " + dir + " is a run");
  const std::optional<std::pair<HeatAxis, HeatAxis>> axes =
      v.heat_map.empty() ? std::nullopt : std::optional(parse_heat_axes(v.heat_map));
  if (is_sweep) sweep = read_sweep_inputs(in);
  else run = read_run_inputs(in);

  std::vector<std::string> notes;
  const std::optional<std::string> state = run ? run_state(*run, dir) : std::nullopt;
  if (state) notes.push_back(*state);
  const std::optional<std::string> gnuplot = find_program("gnuplot");
  if (!gnuplot) notes.push_back("gnuplot not found (apt-get install gnuplot-nox): the report has no plots");
  ReportDirectory out(in);
  Report report{out.path(), std::nullopt, {}, notes};
  if (gnuplot) report.plotter.emplace(*gnuplot, out.path(), notes);
  report.page.title = std::string(is_sweep ? "sinapsis sweep " : "sinapsis run ") + directory_name(in);
  if (state) report.page.text(*state);
  is_sweep ? sweep_page(*sweep, axes ? *axes : default_heat_axes(*sweep), report) : run_page(*run, report);
  AtomicFile html((out.path() / "index.html").string());
  html.stream() << report.page.html();
  html.commit();
  out.publish();
  for (const auto& note : notes) std::cerr << "sinapsis report: " << note << "\n";
  std::cout << "wrote " << (in / "report" / "index.html").string() << std::endl;
  return kExitSuccess;
}

}  // namespace sinapsis::cli
