// Line charts written as plain SVG text (no library): latency percentiles over time and the
// sweep's latency against offered rate. Pure; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace recd::bench {

struct ChartSeries {
  std::string label;
  std::string color;                              // any SVG colour, e.g. "#1f77b4"
  std::string dash;                               // stroke-dasharray, "" for solid
  std::vector<std::pair<double, double>> points;  // (x, y); y <= 0 is skipped on a log axis
};

struct ChartLine {  // a labelled reference line across the plot
  double at = 0;
  std::string label;
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = false;
  std::vector<ChartSeries> series;
  std::vector<ChartLine> vertical;    // e.g. model swaps, the knee
  std::vector<ChartLine> horizontal;  // e.g. the p99 target
};

// A complete standalone SVG document. Empty series still give a framed, titled chart.
std::string RenderSvg(const LineChart& chart, int width = 960, int height = 540);

// Escapes &, <, >, " and ' for SVG text and attributes.
std::string XmlEscape(std::string_view text);

// A fixed palette, cycled by index.
std::string PaletteColor(size_t index);

}  // namespace recd::bench
