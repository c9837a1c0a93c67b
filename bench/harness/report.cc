#include "bench/harness/report.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_format.h"
#include "bench/harness/svg_chart.h"
#include "bench/harness/units.h"
#include "recd/status.h"
#include "util/json_writer.h"
#include "util/strings.h"

namespace recd::bench {

EndpointStats PhaseResult::Merged(const std::string& tenant) const {
  EndpointStats merged;
  for (const SeriesResult& s : series) {
    if (tenant.empty() || s.tenant == tenant) merged.Merge(s.stats).IgnoreError();
  }
  return merged;
}

const SeriesResult* PhaseResult::Find(const std::string& tenant, Endpoint endpoint) const {
  for (const SeriesResult& s : series) {
    if (s.tenant == tenant && s.endpoint == endpoint) return &s;
  }
  return nullptr;
}

void AddToTotals(const PhaseResult& phase, RunReport* report) {
  for (const SeriesResult& s : phase.series) {
    const std::string route(EndpointRoute(s.endpoint));
    for (const auto& [status, count] : s.stats.statuses) report->totals[route][status] += count;
    for (int f = 0; f < kNumFailures; ++f) {
      if (s.stats.failures[f] > 0) {
        report->total_failures[route][std::string(FailureName(static_cast<Failure>(f)))] +=
            s.stats.failures[f];
      }
    }
    report->events_accepted += s.stats.events_sent;
  }
  report->overhead.Merge(phase.overhead).IgnoreError();
}

namespace {

std::string Rate(double per_s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, per_s >= 100 ? "%.0f" : "%.1f", per_s);
  return buf;
}

std::string StatusSummary(const EndpointStats& stats) {
  std::vector<std::string> parts;
  for (const auto& [status, count] : stats.statuses)
    parts.push_back(util::StrCat(status, ":", count));
  for (int f = 0; f < kNumFailures; ++f) {
    if (stats.failures[f] > 0) {
      parts.push_back(util::StrCat(FailureName(static_cast<Failure>(f)), ":", stats.failures[f]));
    }
  }
  return parts.empty() ? "-" : util::Join(parts, " ");
}

std::string Pad(std::string_view s, size_t width, bool right = false) {
  std::string out(s);
  if (out.size() < width) {
    out.insert(right ? 0 : out.size(), width - out.size(), ' ');
  }
  return out;
}

std::string Latencies(const Histogram& h) {
  if (h.count() == 0)
    return util::StrCat(Pad("-", 9, true), Pad("-", 9, true), Pad("-", 9, true), Pad("-", 9, true),
                        Pad("-", 9, true));
  std::string out;
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    out += Pad(FormatLatencyUs(static_cast<double>(h.ValueAtPercentile(p))), 9, true);
  }
  out += Pad(FormatLatencyUs(static_cast<double>(h.max())), 9, true);
  return out;
}

void RenderPhase(const PhaseResult& phase, std::string* out) {
  std::vector<std::string> offered;
  for (const auto& [tenant, rate] : phase.offered_rate) {
    offered.push_back(util::StrCat(tenant, " ", Rate(rate), "/s"));
  }
  util::StrAppend(out, "\n== phase ", phase.name, ": ",
                  phase.closed_loop ? "closed loop" : "open loop", ", sent for ",
                  absl::StrFormat("%.1f", phase.sending_s), "s",
                  offered.empty() ? "" : ", offered ", util::Join(offered, ", "),
                  phase.exhausted ? " (replay finished early)" : "", " ==\n");
  util::StrAppend(out, Pad("tenant", 20), Pad("tier", 11), Pad("endpoint", 16),
                  Pad("sent", 9, true), Pad("ok/s", 9, true), Pad("p50", 9, true),
                  Pad("p90", 9, true), Pad("p99", 9, true), Pad("p99.9", 9, true),
                  Pad("max", 9, true), "  answers by status, failures\n");
  for (const SeriesResult& s : phase.series) {
    const double ok_per_s = phase.sending_s > 0 ? s.stats.ok() / phase.sending_s : 0;
    util::StrAppend(out, Pad(s.tenant, 20), Pad(s.tier, 11), Pad(EndpointName(s.endpoint), 16),
                    Pad(util::StrCat(s.stats.sent), 9, true), Pad(Rate(ok_per_s), 9, true),
                    Latencies(s.stats.latency_us), "  ", StatusSummary(s.stats), "\n");
  }
  const EngineOverhead& o = phase.overhead;
  util::StrAppend(out, "harness: dispatch lag p50 ",
                  FormatLatencyUs(o.dispatch_lag_us.ValueAtPercentile(50)), " p99 ",
                  FormatLatencyUs(o.dispatch_lag_us.ValueAtPercentile(99)), " max ",
                  FormatLatencyUs(o.dispatch_lag_us.max()), "; connection wait p99 ",
                  FormatLatencyUs(o.connection_wait_us.ValueAtPercentile(99)), "; backlog max ",
                  phase.backlog_max, "; connections opened ", o.connections_opened, "\n");
  if (phase.dispatch_lag_us.size() > 1) {
    util::StrAppend(out, "harness dispatch lag p99 by tenant:");
    for (const auto& [tenant, lag] : phase.dispatch_lag_us) {
      util::StrAppend(out, " ", tenant, " ", FormatLatencyUs(lag.ValueAtPercentile(99)));
    }
    util::StrAppend(out, "\n");
  }
  for (const ActionEvent& a : phase.actions) {
    util::StrAppend(out, "  at ", absl::StrFormat("%.1f", a.at_s), "s ", a.kind, " ", a.tenant,
                    " -> ", a.version, ": upload ", absl::StrFormat("%.0f", a.upload_ms),
                    "ms, activate ", absl::StrFormat("%.0f", a.activate_ms), "ms",
                    a.error.empty() ? "" : util::StrCat(" FAILED: ", a.error), "\n");
  }
}

struct Comparison {
  struct Row {
    Endpoint endpoint;
    const EndpointStats* baseline;
    const EndpointStats* test;
  };
  std::vector<Row> rows;                    // the focus tenant's endpoints
  std::vector<const SeriesResult*> others;  // other tenants' series in the test phase
  const PhaseResult* baseline = nullptr;
  const PhaseResult* test = nullptr;
};

std::optional<Comparison> Compare(const RunReport& report) {
  if (!report.compare) return std::nullopt;
  Comparison c;
  for (const PhaseResult& p : report.phases) {
    if (p.name == report.compare->baseline) c.baseline = &p;
    if (p.name == report.compare->test) c.test = &p;
  }
  if (c.baseline == nullptr || c.test == nullptr) return std::nullopt;
  for (int e = 0; e < kNumEndpoints; ++e) {
    const Endpoint endpoint = static_cast<Endpoint>(e);
    const SeriesResult* b = c.baseline->Find(report.compare->tenant, endpoint);
    const SeriesResult* t = c.test->Find(report.compare->tenant, endpoint);
    if (b != nullptr && t != nullptr) c.rows.push_back({endpoint, &b->stats, &t->stats});
  }
  for (const SeriesResult& s : c.test->series) {
    if (s.tenant != report.compare->tenant) c.others.push_back(&s);
  }
  return c;
}

int64_t StatusCount(const EndpointStats& stats, int status) {
  auto it = stats.statuses.find(status);
  return it == stats.statuses.end() ? 0 : it->second;
}

void RenderComparison(const RunReport& report, std::string* out) {
  std::optional<Comparison> c = Compare(report);
  if (!c) return;
  util::StrAppend(out, "\n== isolation: ", report.compare->tenant, " in \"", c->baseline->name,
                  "\" vs \"", c->test->name, "\" ==\n");
  for (const Comparison::Row& row : c->rows) {
    const int64_t p99_b = row.baseline->latency_us.ValueAtPercentile(99);
    const int64_t p99_t = row.test->latency_us.ValueAtPercentile(99);
    util::StrAppend(out, Pad(EndpointName(row.endpoint), 16), "p99 ", FormatLatencyUs(p99_b),
                    " -> ", FormatLatencyUs(p99_t), " (x",
                    absl::StrFormat("%.2f", p99_b > 0 ? static_cast<double>(p99_t) / p99_b : 0),
                    "), p99.9 ", FormatLatencyUs(row.baseline->latency_us.ValueAtPercentile(99.9)),
                    " -> ", FormatLatencyUs(row.test->latency_us.ValueAtPercentile(99.9)),
                    ", errors ", row.baseline->failed(), " -> ", row.test->failed(), "\n");
  }
  for (const SeriesResult* s : c->others) {
    util::StrAppend(out, "  neighbour ", s->tenant, " (", s->tier, ") ", EndpointName(s->endpoint),
                    ": 429 ", StatusCount(s->stats, 429), ", 503 ", StatusCount(s->stats, 503),
                    ", 2xx ", s->stats.ok(), ", p50 ",
                    FormatLatencyUs(s->stats.latency_us.ValueAtPercentile(50)), ", p99 ",
                    FormatLatencyUs(s->stats.latency_us.ValueAtPercentile(99)), "\n");
  }
}

void RenderSweeps(const RunReport& report, std::string* out) {
  for (const SweepResult& sweep : report.sweeps) {
    util::StrAppend(out, "\n== sweep ", sweep.phase, ": p99 target ",
                    FormatLatencyUs(sweep.p99_target_us),
                    ", error ratio <= ", sweep.max_error_ratio, " ==\n");
    util::StrAppend(out, Pad("offered/s", 12, true), Pad("ok/s", 12, true), Pad("p99", 10, true),
                    Pad("errors", 10, true), "  within target\n");
    for (const SweepStep& step : sweep.steps) {
      util::StrAppend(out, Pad(Rate(step.rate), 12, true), Pad(Rate(step.throughput), 12, true),
                      Pad(FormatLatencyUs(step.p99_us), 10, true),
                      Pad(absl::StrFormat("%.2f%%", 100 * step.error_ratio), 10, true), "  ",
                      step.within_target ? "yes" : "NO", "\n");
    }
    util::StrAppend(out, "knee: ",
                    sweep.knee_rate ? util::StrCat(Rate(*sweep.knee_rate), "/s")
                                    : std::string("none (the first step already broke the target)"),
                    "; stopped: ", sweep.stop_reason, "\n");
  }
}

}  // namespace

std::string RenderText(const RunReport& report) {
  std::string out = "== setup ==\n";
  for (const auto& [key, value] : report.setup) util::StrAppend(&out, Pad(key, 22), value, "\n");
  for (const auto& [label, id] : report.tenant_ids) {
    util::StrAppend(&out, Pad(util::StrCat("tenant ", label), 22), id, "\n");
  }
  for (const PhaseResult& phase : report.phases) RenderPhase(phase, &out);
  RenderSweeps(report, &out);
  RenderComparison(report, &out);
  util::StrAppend(&out, "\n== answers by endpoint and status (compare with recd's /metrics) ==\n");
  for (const auto& [route, statuses] : report.totals) {
    for (const auto& [status, count] : statuses) {
      util::StrAppend(&out, Pad(route, 56), Pad(util::StrCat(status), 5), count, "\n");
    }
  }
  for (const auto& [route, failures] : report.total_failures) {
    for (const auto& [name, count] : failures) {
      util::StrAppend(&out, Pad(route, 56), Pad(name, 9), count, " (no answer)\n");
    }
  }
  util::StrAppend(&out, "events in 2xx batches: ", report.events_accepted, "\n");
  const EngineOverhead& o = report.overhead;
  util::StrAppend(&out, "harness overhead over the run: dispatch lag p50 ",
                  FormatLatencyUs(o.dispatch_lag_us.ValueAtPercentile(50)), ", p99 ",
                  FormatLatencyUs(o.dispatch_lag_us.ValueAtPercentile(99)), ", p99.9 ",
                  FormatLatencyUs(o.dispatch_lag_us.ValueAtPercentile(99.9)), ", max ",
                  FormatLatencyUs(o.dispatch_lag_us.max()), " (", o.dispatch_lag_us.count(),
                  " scheduled sends)\n");
  for (const std::string& w : report.warnings) util::StrAppend(&out, "WARNING: ", w, "\n");
  return out;
}

namespace {

void WriteLatency(const Histogram& h, util::JsonWriter* json) {
  json->BeginObject().Key("count").Int(h.count());
  json->Key("min").Int(h.min()).Key("mean").Double(h.mean());
  json->Key("p50").Int(h.ValueAtPercentile(50)).Key("p90").Int(h.ValueAtPercentile(90));
  json->Key("p99").Int(h.ValueAtPercentile(99)).Key("p999").Int(h.ValueAtPercentile(99.9));
  json->Key("max").Int(h.max()).EndObject();
}

void WriteStats(const EndpointStats& stats, double sending_s, double interval_s,
                util::JsonWriter* json) {
  json->Key("sent").Int(stats.sent).Key("answered").Int(stats.answered());
  json->Key("ok").Int(stats.ok()).Key("failed").Int(stats.failed());
  json->Key("ok_per_s").Double(sending_s > 0 ? stats.ok() / sending_s : 0);
  json->Key("events_in_ok_batches").Int(stats.events_sent);
  json->Key("latency_us");
  WriteLatency(stats.latency_us, json);
  json->Key("statuses").BeginObject();
  for (const auto& [status, count] : stats.statuses) json->Key(util::StrCat(status)).Int(count);
  json->EndObject().Key("failures").BeginObject();
  for (int f = 0; f < kNumFailures; ++f) {
    json->Key(FailureName(static_cast<Failure>(f))).Int(stats.failures[f]);
  }
  json->EndObject().Key("timeline").BeginArray();
  for (size_t i = 0; i < stats.timeline.size(); ++i) {
    const Histogram& h = stats.timeline[i];
    json->BeginObject().Key("t_s").Double(static_cast<double>(i) * interval_s);
    json->Key("count").Int(h.count()).Key("p50").Int(h.ValueAtPercentile(50));
    json->Key("p90").Int(h.ValueAtPercentile(90)).Key("p99").Int(h.ValueAtPercentile(99));
    json->Key("p999").Int(h.ValueAtPercentile(99.9)).Key("max").Int(h.max()).EndObject();
  }
  json->EndArray();
}

}  // namespace

std::string RenderJson(const RunReport& report) {
  std::string out;
  util::JsonWriter json(&out);
  json.BeginObject().Key("scenario").String(report.scenario_name);
  json.Key("description").String(report.scenario_description);
  json.Key("setup").BeginObject();
  for (const auto& [key, value] : report.setup) json.Key(key).String(value);
  json.EndObject().Key("tenants").BeginObject();
  for (const auto& [label, id] : report.tenant_ids) json.Key(label).String(id);
  json.EndObject().Key("phases").BeginArray();
  for (const PhaseResult& phase : report.phases) {
    json.BeginObject().Key("name").String(phase.name);
    json.Key("mode").String(phase.closed_loop ? "closed" : "open");
    json.Key("sending_s").Double(phase.sending_s).Key("elapsed_s").Double(phase.elapsed_s);
    json.Key("interval_s").Double(phase.interval_s).Key("exhausted").Bool(phase.exhausted);
    json.Key("offered_rate").BeginObject();
    for (const auto& [tenant, rate] : phase.offered_rate) json.Key(tenant).Double(rate);
    json.EndObject().Key("series").BeginArray();
    for (const SeriesResult& s : phase.series) {
      json.BeginObject().Key("tenant").String(s.tenant).Key("tier").String(s.tier);
      json.Key("endpoint").String(EndpointName(s.endpoint));
      json.Key("route").String(EndpointRoute(s.endpoint));
      WriteStats(s.stats, phase.sending_s, phase.interval_s, &json);
      json.EndObject();
    }
    json.EndArray().Key("harness").BeginObject().Key("dispatch_lag_us");
    WriteLatency(phase.overhead.dispatch_lag_us, &json);
    json.Key("connection_wait_us");
    WriteLatency(phase.overhead.connection_wait_us, &json);
    json.Key("backlog_max").Int(phase.backlog_max);
    json.Key("dispatch_lag_us_by_tenant").BeginObject();
    for (const auto& [tenant, lag] : phase.dispatch_lag_us) {
      json.Key(tenant);
      WriteLatency(lag, &json);
    }
    json.EndObject();
    json.Key("connections_opened").Int(phase.overhead.connections_opened).EndObject();
    json.Key("actions").BeginArray();
    for (const ActionEvent& a : phase.actions) {
      json.BeginObject().Key("at_s").Double(a.at_s).Key("kind").String(a.kind);
      json.Key("tenant").String(a.tenant).Key("version").String(a.version);
      json.Key("upload_ms").Double(a.upload_ms).Key("activate_ms").Double(a.activate_ms);
      json.Key("error").String(a.error).EndObject();
    }
    json.EndArray().EndObject();
  }
  json.EndArray().Key("sweeps").BeginArray();
  for (const SweepResult& sweep : report.sweeps) {
    json.BeginObject().Key("phase").String(sweep.phase);
    json.Key("p99_target_us").Int(sweep.p99_target_us);
    json.Key("max_error_ratio").Double(sweep.max_error_ratio).Key("steps").BeginArray();
    for (const SweepStep& step : sweep.steps) {
      json.BeginObject().Key("rate").Double(step.rate).Key("ok_per_s").Double(step.throughput);
      json.Key("p50_us").Int(step.p50_us).Key("p99_us").Int(step.p99_us);
      json.Key("p999_us").Int(step.p999_us).Key("error_ratio").Double(step.error_ratio);
      json.Key("within_target").Bool(step.within_target).EndObject();
    }
    json.EndArray().Key("knee_rate");
    if (sweep.knee_rate) {
      json.Double(*sweep.knee_rate);
    } else {
      json.Null();
    }
    json.Key("stop_reason").String(sweep.stop_reason).EndObject();
  }
  json.EndArray().Key("isolation");
  if (std::optional<Comparison> c = Compare(report)) {
    json.BeginObject().Key("tenant").String(report.compare->tenant);
    json.Key("baseline").String(c->baseline->name).Key("test").String(c->test->name);
    json.Key("endpoints").BeginArray();
    for (const Comparison::Row& row : c->rows) {
      json.BeginObject().Key("endpoint").String(EndpointName(row.endpoint));
      json.Key("baseline_latency_us");
      WriteLatency(row.baseline->latency_us, &json);
      json.Key("test_latency_us");
      WriteLatency(row.test->latency_us, &json);
      json.Key("baseline_errors").Int(row.baseline->failed());
      json.Key("test_errors").Int(row.test->failed()).EndObject();
    }
    json.EndArray().Key("neighbours").BeginArray();
    for (const SeriesResult* s : c->others) {
      json.BeginObject().Key("tenant").String(s->tenant).Key("tier").String(s->tier);
      json.Key("endpoint").String(EndpointName(s->endpoint));
      json.Key("status_429").Int(StatusCount(s->stats, 429));
      json.Key("status_503").Int(StatusCount(s->stats, 503)).Key("ok").Int(s->stats.ok());
      json.Key("latency_us");
      WriteLatency(s->stats.latency_us, &json);
      json.EndObject();
    }
    json.EndArray().EndObject();
  } else {
    json.Null();
  }
  json.Key("totals").BeginObject();
  for (const auto& [route, statuses] : report.totals) {
    json.Key(route).BeginObject();
    for (const auto& [status, count] : statuses) json.Key(util::StrCat(status)).Int(count);
    json.EndObject();
  }
  json.EndObject().Key("failures").BeginObject();
  for (const auto& [route, failures] : report.total_failures) {
    json.Key(route).BeginObject();
    for (const auto& [name, count] : failures) json.Key(name).Int(count);
    json.EndObject();
  }
  json.EndObject().Key("events_accepted").Int(report.events_accepted);
  json.Key("harness").BeginObject().Key("dispatch_lag_us");
  WriteLatency(report.overhead.dispatch_lag_us, &json);
  json.Key("connection_wait_us");
  WriteLatency(report.overhead.connection_wait_us, &json);
  json.EndObject().Key("warnings").BeginArray();
  for (const std::string& w : report.warnings) json.String(w);
  json.EndArray().EndObject();
  out.push_back('\n');
  return out;
}

namespace {

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(util::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> WriteCharts(const RunReport& report,
                                                     const std::string& dir) {
  std::vector<std::string> written;
  for (const PhaseResult& phase : report.phases) {
    // Sweep steps are in the sweep chart; "_seed" is unmeasured preparation.
    if (phase.name.find('@') != std::string::npos || phase.name.starts_with("_")) continue;
    LineChart chart;
    chart.title =
        util::StrCat(report.scenario_name, " / ", phase.name, ": latency percentiles over time");
    chart.x_label =
        util::StrCat("time since phase start (s), by scheduled send, ",
                     FormatDurationNs(static_cast<int64_t>(phase.interval_s * 1e9)), " intervals");
    chart.y_label = "latency (ms, log scale)";
    chart.log_y = true;
    size_t color = 0;
    for (const SeriesResult& s : phase.series) {
      if (s.stats.answered() == 0) continue;
      const std::string name = util::StrCat(s.tenant, " ", EndpointName(s.endpoint));
      const std::pair<double, const char*> percentiles[] = {{50, "4,3"}, {99, ""}, {99.9, "1,2"}};
      for (const auto& [p, dash] : percentiles) {
        ChartSeries series;
        series.label = util::StrCat(name, " p", p);
        series.color = PaletteColor(color);
        series.dash = dash;
        for (size_t i = 0; i < s.stats.timeline.size(); ++i) {
          const Histogram& h = s.stats.timeline[i];
          if (h.count() == 0) continue;
          series.points.emplace_back((static_cast<double>(i) + 0.5) * phase.interval_s,
                                     h.ValueAtPercentile(p) / 1000.0);
        }
        chart.series.push_back(std::move(series));
      }
      ++color;
    }
    for (const ActionEvent& a : phase.actions) {
      chart.vertical.push_back({a.at_s, util::StrCat("swap ", a.version)});
    }
    const std::string name = util::StrCat("latency_", phase.name, ".svg");
    RECD_RETURN_IF_ERROR(WriteText(util::StrCat(dir, "/", name), RenderSvg(chart)));
    written.push_back(name);
  }
  for (const SweepResult& sweep : report.sweeps) {
    LineChart chart;
    chart.title =
        util::StrCat(report.scenario_name, " / ", sweep.phase, ": latency against offered rate");
    chart.x_label = "offered rate (requests/s)";
    chart.y_label = "latency (ms, log scale)";
    chart.log_y = true;
    ChartSeries p50{"p50", PaletteColor(0), "4,3", {}};
    ChartSeries p99{"p99", PaletteColor(1), "", {}};
    ChartSeries p999{"p99.9", PaletteColor(3), "1,2", {}};
    LineChart throughput;
    throughput.title =
        util::StrCat(report.scenario_name, " / ", sweep.phase, ": answered against offered");
    throughput.x_label = "offered rate (requests/s)";
    throughput.y_label = "2xx answers/s";
    ChartSeries ideal{"offered", "#999", "4,3", {}};
    ChartSeries ok{"2xx answers/s", PaletteColor(2), "", {}};
    for (const SweepStep& step : sweep.steps) {
      p50.points.emplace_back(step.rate, step.p50_us / 1000.0);
      p99.points.emplace_back(step.rate, step.p99_us / 1000.0);
      p999.points.emplace_back(step.rate, step.p999_us / 1000.0);
      ideal.points.emplace_back(step.rate, step.rate);
      ok.points.emplace_back(step.rate, step.throughput);
    }
    chart.series = {p50, p99, p999};
    throughput.series = {ideal, ok};
    chart.horizontal.push_back({sweep.p99_target_us / 1000.0,
                                util::StrCat("target ", FormatLatencyUs(sweep.p99_target_us))});
    if (sweep.knee_rate) {
      chart.vertical.push_back({*sweep.knee_rate, util::StrCat("knee ", *sweep.knee_rate, "/s")});
      throughput.vertical.push_back(chart.vertical.back());
    }
    const std::string name = util::StrCat("sweep_", sweep.phase, ".svg");
    RECD_RETURN_IF_ERROR(WriteText(util::StrCat(dir, "/", name), RenderSvg(chart)));
    written.push_back(name);
    const std::string name2 = util::StrCat("sweep_", sweep.phase, "_throughput.svg");
    RECD_RETURN_IF_ERROR(WriteText(util::StrCat(dir, "/", name2), RenderSvg(throughput)));
    written.push_back(name2);
  }
  return written;
}

}  // namespace recd::bench
