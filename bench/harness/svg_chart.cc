#include "bench/harness/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "util/strings.h"

namespace recd::bench {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string TickLabel(double v) {
  char buf[32];
  if (v != 0 && (std::abs(v) >= 1e6 || std::abs(v) < 1e-2)) {
    std::snprintf(buf, sizeof buf, "%.0e", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

// Ticks at 1, 2 or 5 times a power of ten, about `target` of them.
std::vector<double> LinearTicks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string PaletteColor(size_t index) {
  static const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                         "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return kPalette[index % (sizeof kPalette / sizeof kPalette[0])];
}

std::string RenderSvg(const LineChart& chart, int width, int height) {
  const double left = 80, right = 230, top = 50, bottom = 60;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  // Data bounds.
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const ChartSeries& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (chart.log_y && y <= 0) continue;
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  }
  for (const ChartLine& l : chart.horizontal) {
    if (chart.log_y && l.at <= 0) continue;
    y_lo = std::min(y_lo, l.at);
    y_hi = std::max(y_hi, l.at);
  }
  for (const ChartLine& l : chart.vertical) {
    x_lo = std::min(x_lo, l.at);
    x_hi = std::max(x_hi, l.at);
  }
  if (!std::isfinite(x_lo)) {
    x_lo = 0;
    x_hi = 1;
  }
  if (!std::isfinite(y_lo)) {
    y_lo = chart.log_y ? 1 : 0;
    y_hi = chart.log_y ? 10 : 1;
  }
  if (x_hi <= x_lo) x_hi = x_lo + 1;
  if (chart.log_y) {
    y_lo = std::pow(10.0, std::floor(std::log10(y_lo)));
    y_hi = std::pow(10.0, std::ceil(std::log10(y_hi)));
    if (y_hi <= y_lo) y_hi = y_lo * 10;
  } else {
    y_lo = std::min(y_lo, 0.0);
    if (y_hi <= y_lo) y_hi = y_lo + 1;
    y_hi *= 1.05;
  }
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * plot_w; };
  auto py = [&](double y) {
    const double f =
        chart.log_y ? (std::log10(y) - std::log10(y_lo)) / (std::log10(y_hi) - std::log10(y_lo))
                    : (y - y_lo) / (y_hi - y_lo);
    return top + plot_h - f * plot_h;
  };

  std::string svg = util::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", width, "\" height=\"", height,
      "\" viewBox=\"0 0 ", width, " ", height, "\" font-family=\"sans-serif\" font-size=\"12\">\n",
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", "<text x=\"", width / 2,
      "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">", XmlEscape(chart.title), "</text>\n");
  // Grid and ticks.
  std::vector<double> y_ticks;
  if (chart.log_y) {
    for (double decade = y_lo; decade <= y_hi * 1.0001; decade *= 10) {
      for (double m : {1.0, 2.0, 5.0}) {
        if (decade * m <= y_hi * 1.0001) y_ticks.push_back(decade * m);
      }
    }
  } else {
    y_ticks = LinearTicks(y_lo, y_hi, 6);
  }
  for (double t : y_ticks) {
    util::StrAppend(&svg, "<line x1=\"", Num(left), "\" x2=\"", Num(left + plot_w), "\" y1=\"",
                    Num(py(t)), "\" y2=\"", Num(py(t)), "\" stroke=\"#ddd\"/>\n", "<text x=\"",
                    Num(left - 6), "\" y=\"", Num(py(t) + 4), "\" text-anchor=\"end\">",
                    TickLabel(t), "</text>\n");
  }
  for (double t : LinearTicks(x_lo, x_hi, 8)) {
    util::StrAppend(&svg, "<line x1=\"", Num(px(t)), "\" x2=\"", Num(px(t)), "\" y1=\"", Num(top),
                    "\" y2=\"", Num(top + plot_h), "\" stroke=\"#eee\"/>\n", "<text x=\"",
                    Num(px(t)), "\" y=\"", Num(top + plot_h + 18), "\" text-anchor=\"middle\">",
                    TickLabel(t), "</text>\n");
  }
  util::StrAppend(&svg, "<rect x=\"", Num(left), "\" y=\"", Num(top), "\" width=\"", Num(plot_w),
                  "\" height=\"", Num(plot_h), "\" fill=\"none\" stroke=\"#333\"/>\n");
  util::StrAppend(&svg, "<text x=\"", Num(left + plot_w / 2), "\" y=\"", height - 16,
                  "\" text-anchor=\"middle\">", XmlEscape(chart.x_label), "</text>\n");
  util::StrAppend(&svg, "<text transform=\"translate(18,", Num(top + plot_h / 2),
                  ") rotate(-90)\" text-anchor=\"middle\">", XmlEscape(chart.y_label), "</text>\n");
  // Reference lines.
  for (const ChartLine& l : chart.horizontal) {
    if (chart.log_y && l.at <= 0) continue;
    util::StrAppend(&svg, "<line x1=\"", Num(left), "\" x2=\"", Num(left + plot_w), "\" y1=\"",
                    Num(py(l.at)), "\" y2=\"", Num(py(l.at)),
                    "\" stroke=\"#555\" stroke-dasharray=\"8,4\"/>\n", "<text x=\"", Num(left + 4),
                    "\" y=\"", Num(py(l.at) - 4), "\" fill=\"#555\">", XmlEscape(l.label),
                    "</text>\n");
  }
  for (const ChartLine& l : chart.vertical) {
    util::StrAppend(&svg, "<line x1=\"", Num(px(l.at)), "\" x2=\"", Num(px(l.at)), "\" y1=\"",
                    Num(top), "\" y2=\"", Num(top + plot_h),
                    "\" stroke=\"#999\" stroke-dasharray=\"2,3\"/>\n", "<text x=\"",
                    Num(px(l.at) + 3), "\" y=\"", Num(top + 12),
                    "\" fill=\"#777\" font-size=\"10\">", XmlEscape(l.label), "</text>\n");
  }
  // Series and legend.
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const ChartSeries& s = chart.series[i];
    std::string points;
    for (const auto& [x, y] : s.points) {
      if (chart.log_y && y <= 0) continue;
      util::StrAppend(&points, points.empty() ? "" : " ", Num(px(x)), ",", Num(py(y)));
    }
    const std::string dash =
        s.dash.empty() ? "" : util::StrCat(" stroke-dasharray=\"", s.dash, "\"");
    if (!points.empty()) {
      util::StrAppend(&svg, "<polyline fill=\"none\" stroke=\"", s.color, "\" stroke-width=\"1.6\"",
                      dash, " points=\"", points, "\"/>\n");
    }
    const double ly = top + 10 + 18 * static_cast<double>(i);
    util::StrAppend(&svg, "<line x1=\"", Num(left + plot_w + 12), "\" x2=\"",
                    Num(left + plot_w + 40), "\" y1=\"", Num(ly), "\" y2=\"", Num(ly),
                    "\" stroke=\"", s.color, "\" stroke-width=\"2\"", dash, "/>\n", "<text x=\"",
                    Num(left + plot_w + 46), "\" y=\"", Num(ly + 4), "\">", XmlEscape(s.label),
                    "</text>\n");
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace recd::bench
