#include "bench/harness/runner.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "absl/strings/str_format.h"
#include "bench/harness/admin_client.h"
#include "bench/harness/load_engine.h"
#include "bench/harness/model_gen.h"
#include "bench/harness/replay.h"
#include "bench/harness/target.h"
#include "bench/harness/trivial_server.h"
#include "bench/harness/units.h"
#include "bench/harness/workload.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "recd/status.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/machine.h"
#include "util/strings.h"
#include "util/text.h"
#include "util/thread.h"

#ifndef RECD_BENCH_BUILD_TYPE
#define RECD_BENCH_BUILD_TYPE "unknown"
#endif

namespace recd::bench {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

// Resolves the target's host to one numeric address; refuses anything but loopback unless
// allowed (the harness generates real load).
absl::StatusOr<std::string> ResolveAddress(const Target& target, bool allow_non_loopback) {
  if (!allow_non_loopback && !IsLoopbackHost(target.host)) {
    return absl::FailedPreconditionError(util::StrCat(
        "target host ", target.host,
        " is not a loopback address; pass --allow-non-loopback to load another machine"));
  }
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(target.host, std::to_string(target.port), ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(util::StrCat("cannot resolve ", target.host, ": ", ec.message()));
  }
  for (const auto& entry : results) {
    const auto address = entry.endpoint().address();
    if (!allow_non_loopback && !address.is_loopback()) continue;
    return address.to_string();
  }
  return absl::FailedPreconditionError(
      util::StrCat(target.host, " does not resolve to a loopback address"));
}

int64_t IntervalNs(int64_t duration_ns) {
  // About 150 points on a chart, in whole seconds.
  const int64_t seconds = std::max<int64_t>(1, (duration_ns / 150 + kSecondNs - 1) / kSecondNs);
  return seconds * kSecondNs;
}

struct OnboardedTenant {
  const TenantSpec* spec = nullptr;
  std::string id;
  TenantKeys keys;
  int model_versions = 0;
};

class Runner {
 public:
  Runner(const CliOptions& options, const Scenario& scenario, const std::atomic<bool>* stop)
      : options_(options), scenario_(scenario), stop_(stop) {}

  absl::StatusOr<RunReport> Run() {
    RECD_ASSIGN_OR_RETURN(target_, ParseTarget(options_.target));
    RECD_ASSIGN_OR_RETURN(address_, ResolveAddress(target_, options_.allow_non_loopback));
    report_.scenario_name = scenario_.name;
    report_.scenario_description = scenario_.description;
    report_.setup = DescribeSetup();
    report_.setup["target"] = util::StrCat(options_.target, " (", address_, ")");
    report_.setup["scenario"] = scenario_.name;
    report_.setup["seed"] = util::StrCat(scenario_.seed);
    report_.setup["harness threads"] = util::StrCat(options_.threads);
    report_.setup["connections per load"] = util::StrCat(scenario_.connections, " (default)");
    report_.setup["arrivals"] = std::string(ArrivalKindName(scenario_.arrival));
    report_.setup["base rate"] = util::StrCat(scenario_.rate, "/s");
    report_.setup["default duration"] = FormatDurationNs(scenario_.duration_ns);
    report_.compare = scenario_.compare;
    RunReport header;
    header.setup = report_.setup;
    const std::string rendered = RenderText(header);
    std::cout << rendered.substr(0, rendered.find("\n== answers")) << std::flush;

    RECD_RETURN_IF_ERROR(LoadReplays());
    admin_ = std::make_unique<AdminClient>(target_, address_, options_.admin_token,
                                           scenario_.timeout_ns);
    absl::Status status = Onboard();
    if (status.ok()) status = Seed();
    if (status.ok()) status = RunPhases();
    Offboard();
    for (const auto& [route, statuses] : admin_->counts()) {
      for (const auto& [code, count] : statuses) report_.totals[route][code] += count;
    }
    RECD_RETURN_IF_ERROR(status);
    AddWarnings();
    return std::move(report_);
  }

 private:
  absl::Status LoadReplays() {
    for (const PhaseSpec& phase : scenario_.phases) {
      for (const LoadSpec& load : phase.loads) {
        if (!load.replay || replays_.count(ReplayKey(*load.replay))) continue;
        ReplayReadStats stats;
        const auto started = std::chrono::steady_clock::now();
        absl::StatusOr<std::vector<ReplayEvent>> events =
            ReadReplayFile(load.replay->path, load.replay->format, load.replay->limit, &stats);
        if (!events.ok()) return events.status();
        RECD_LOG(Info)
            << "replay " << load.replay->path << ": " << events->size() << " events from "
            << stats.rows << " rows (" << stats.skipped << " skipped) in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << "s";
        replays_[ReplayKey(*load.replay)] =
            std::make_shared<const std::vector<ReplayEvent>>(std::move(*events));
      }
    }
    return absl::OkStatus();
  }

  static std::string ReplayKey(const ReplaySpec& r) {
    return util::StrCat(r.path, "|", r.format, "|", r.limit);
  }

  absl::Status Onboard() {
    const std::string run_id = util::RandomString(6, util::kBase32Lower);
    for (const TenantSpec& spec : scenario_.tenants) {
      OnboardedTenant& t = tenants_[spec.name];
      t.spec = &spec;
      t.id = util::StrCat("bench-", spec.name, "-", run_id);
      RECD_LOG(Info) << "onboarding " << t.id << " (" << spec.tier << ")";
      RECD_ASSIGN_OR_RETURN(
          t.keys, admin_->CreateTenant(t.id, util::StrCat("recd-bench ", spec.name), spec.tier));
      report_.tenant_ids[spec.name] = t.id;
      if (!spec.quotas.empty()) RECD_RETURN_IF_ERROR(admin_->SetQuotas(t.id, spec.quotas));
      if (spec.model) {
        ActionEvent ignored;
        RECD_RETURN_IF_ERROR(DeployModel(&t, &ignored));
      }
    }
    return absl::OkStatus();
  }

  // Generates the tenant's next model version as a tar archive; sets `version`.
  absl::StatusOr<std::string> PrepareModel(OnboardedTenant* t, std::string* version) {
    const int n = ++t->model_versions;
    *version = util::StrCat("v", n);
    ModelShape shape{t->spec->items,     t->spec->dim,
                     t->spec->kind,      t->spec->metric,
                     t->spec->precision, scenario_.seed * 1'000'003 + static_cast<uint64_t>(n)};
    RECD_ASSIGN_OR_RETURN(std::string dir, MakeTempDir("recd-bench-model"));
    absl::StatusOr<std::string> tar = WriteModelFolderAndPack(GenerateModel(shape), dir);
    RemoveTree(dir);
    return tar;
  }

  // Generates, uploads and activates the tenant's next model version.
  absl::Status DeployModel(OnboardedTenant* t, ActionEvent* event) {
    RECD_ASSIGN_OR_RETURN(std::string tar, PrepareModel(t, &event->version));
    return ShipModel(*t, tar, event);
  }

  // Uploads and activates a prepared version, timing both calls.
  absl::Status ShipModel(const OnboardedTenant& t, const std::string& tar, ActionEvent* event) {
    auto t0 = std::chrono::steady_clock::now();
    RECD_RETURN_IF_ERROR(admin_->UploadModel(t.id, event->version, tar));
    auto t1 = std::chrono::steady_clock::now();
    RECD_RETURN_IF_ERROR(admin_->ActivateModel(t.id, event->version));
    auto t2 = std::chrono::steady_clock::now();
    event->upload_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    event->activate_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
    RECD_LOG(Info) << t.id << ": model " << event->version << " (" << tar.size()
                   << " bytes) uploaded in " << event->upload_ms << " ms, activated in "
                   << event->activate_ms << " ms";
    return absl::OkStatus();
  }

  void Offboard() {
    if (options_.keep_tenants) {
      for (const auto& [name, t] : tenants_) {
        std::cout << "kept tenant " << t.id << " server key " << t.keys.server << "\n";
      }
      return;
    }
    for (const auto& [name, t] : tenants_) {
      if (absl::Status s = admin_->DeleteTenant(t.id); !s.ok()) {
        report_.warnings.push_back(util::StrCat("offboarding ", t.id, " failed: ", s.message()));
      }
    }
  }

  SyntheticConfig SyntheticFor(const OnboardedTenant& t, const LoadSpec* load, uint64_t seed) {
    SyntheticConfig c;
    c.target = target_;
    c.server_key = t.keys.server;
    c.ingest_key = t.keys.ingest;
    c.users = t.spec->users;
    c.items = t.spec->items;
    c.user_zipf = t.spec->user_zipf;
    c.item_zipf = t.spec->item_zipf;
    c.seed = seed;
    if (load != nullptr) {
      c.recommend = load->recommend;
      c.events = load->events;
      c.similar = load->similar;
      c.user_events = load->user_events;
      c.batch = load->batch;
      c.k = load->k;
      c.history_limit = load->history_limit;
      c.event_types.assign(load->event_types.begin(), load->event_types.end());
    }
    return c;
  }

  // Unmeasured history: each tenant's seed_events, sent closed-loop in batches of 1000.
  absl::Status Seed() {
    std::vector<StreamPlan> plans;
    std::vector<std::string> labels;
    for (const TenantSpec& spec : scenario_.tenants) {
      if (spec.seed_events == 0) continue;
      SyntheticConfig c = SyntheticFor(tenants_[spec.name], nullptr, scenario_.seed ^ 0x5eed);
      c.events = 1;
      c.batch = 1000;
      c.max_events = spec.seed_events;
      StreamPlan plan;
      plan.source = std::make_unique<SyntheticSource>(std::move(c));
      plan.closed_loop = true;
      plan.connections = 4;
      plans.push_back(std::move(plan));
      labels.push_back(spec.name);
    }
    if (plans.empty()) return absl::OkStatus();
    RECD_LOG(Info) << "seeding histories";
    EngineConfig config = MakeEngineConfig(3600 * kSecondNs);
    EngineResult result = RunLoad(config, std::move(plans), SteadyNowNs() + 100'000'000, stop_);
    PhaseResult phase;
    phase.name = "_seed";
    phase.closed_loop = true;
    phase.sending_s = result.sending_ns / 1e9;
    phase.elapsed_s = result.elapsed_ns / 1e9;
    phase.interval_s = config.interval_ns / 1e9;
    phase.overhead = std::move(result.overhead);
    for (size_t i = 0; i < labels.size(); ++i) {
      AddSeries(labels[i], result.streams[i], &phase);
    }
    const EndpointStats merged = phase.Merged();
    RECD_LOG(Info) << "seeded " << merged.events_sent << " events in " << phase.sending_s
                   << "s; answers " << merged.ok() << " ok, " << merged.failed() << " failed";
    AddToTotals(phase, &report_);
    report_.phases.push_back(std::move(phase));
    return absl::OkStatus();
  }

  EngineConfig MakeEngineConfig(int64_t duration_ns) const {
    EngineConfig config;
    config.address = address_;
    config.port = target_.port;
    config.duration_ns = duration_ns;
    config.timeout_ns = scenario_.timeout_ns;
    config.drain_ns = scenario_.timeout_ns;
    config.interval_ns = IntervalNs(duration_ns);
    return config;
  }

  void AddSeries(const std::string& tenant, const StreamStats& stream, PhaseResult* phase) {
    for (int e = 0; e < kNumEndpoints; ++e) {
      const EndpointStats& es = stream.endpoints[e];
      int64_t failures = 0;
      for (int64_t f : es.failures) failures += f;
      if (es.sent == 0 && es.answered() == 0 && failures == 0) continue;
      SeriesResult* target = nullptr;
      for (SeriesResult& s : phase->series) {
        if (s.tenant == tenant && s.endpoint == static_cast<Endpoint>(e)) target = &s;
      }
      if (target == nullptr) {
        phase->series.push_back(
            {tenant, tenants_[tenant].spec->tier, static_cast<Endpoint>(e), EndpointStats{}});
        target = &phase->series.back();
      }
      target->stats.Merge(es).IgnoreError();  // same histogram configuration everywhere
    }
    phase->backlog_max = std::max(phase->backlog_max, stream.backlog_max);
    phase->dispatch_lag_us[tenant].Merge(stream.dispatch_lag_us).IgnoreError();
  }

  absl::StatusOr<double> LoadRate(const LoadSpec& load, double base_rate) const {
    if (load.rate) return *load.rate;
    if (load.share) return *load.share * base_rate;
    auto it = results_.find(load.rate_of);
    if (it == results_.end()) {
      return absl::FailedPreconditionError(
          util::StrCat("rate_of \"", load.rate_of, "\": that phase did not run"));
    }
    const PhaseResult& ref = report_.phases[it->second];
    const double served = ref.sending_s > 0 ? ref.Merged(load.tenant).ok() / ref.sending_s : 0.0;
    if (served <= 0) {
      report_.warnings.push_back(util::StrCat("rate_of \"", load.rate_of, "\": tenant ",
                                              load.tenant, " got no 2xx there; offering 1/s"));
      return 1.0;
    }
    return load.rate_factor * served;
  }

  // Runs one phase (or one sweep step) on --threads engine threads, with its actions on this
  // thread meanwhile.
  absl::StatusOr<PhaseResult> RunOnce(const PhaseSpec& spec, const std::string& name,
                                      double base_rate, int64_t duration_ns, size_t phase_index) {
    const bool closed = spec.mode == PhaseMode::kClosed;
    PhaseResult phase;
    phase.name = name;
    phase.closed_loop = closed;
    // Engine threads: --threads shared by the ordinary loads (each split over them), plus one
    // per isolated load.
    const bool any_shared = std::any_of(spec.loads.begin(), spec.loads.end(),
                                        [](const LoadSpec& l) { return !l.isolate; });
    const int shared_threads = any_shared ? options_.threads : 0;
    std::vector<std::vector<StreamPlan>> plans(static_cast<size_t>(shared_threads));
    std::vector<std::vector<size_t>> plan_loads(static_cast<size_t>(shared_threads));
    std::vector<int> worker_nice(static_cast<size_t>(shared_threads), 19);
    // nullopt: no load seen yet; an empty list: any CPU.
    std::vector<std::optional<std::vector<int>>> worker_cpus(static_cast<size_t>(shared_threads));
    std::vector<std::shared_ptr<ReplayShared>> replay_cursors(spec.loads.size());
    for (size_t l = 0; l < spec.loads.size(); ++l) {
      const LoadSpec& load = spec.loads[l];
      const OnboardedTenant& tenant = tenants_.at(load.tenant);
      double rate = 0;
      if (!closed) {
        RECD_ASSIGN_OR_RETURN(rate, LoadRate(load, base_rate));
        phase.offered_rate[load.tenant] += rate;
      }
      if (load.replay) {
        replay_cursors[l] = std::make_shared<ReplayShared>();
        replay_cursors[l]->events = replays_.at(ReplayKey(*load.replay));
      }
      const int connections = load.connections > 0 ? load.connections : scenario_.connections;
      const int threads = load.isolate ? 1 : shared_threads;
      for (int w = 0; w < threads; ++w) {
        StreamPlan plan;
        const uint64_t seed =
            scenario_.seed * 1'000'003 + phase_index * 10'007 + l * 101 + static_cast<uint64_t>(w);
        if (load.replay) {
          plan.source =
              std::make_unique<ReplaySource>(target_, tenant.keys.ingest, replay_cursors[l],
                                             load.replay->batch, load.replay->event_type);
        } else {
          plan.source = std::make_unique<SyntheticSource>(SyntheticFor(tenant, &load, seed));
        }
        plan.closed_loop = closed;
        plan.rate = rate / threads;
        plan.arrival = load.arrival.value_or(scenario_.arrival);
        plan.seed = seed;
        // Constant arrivals: the workers' schedules interleave evenly.
        plan.phase_ns = rate > 0 ? static_cast<int64_t>(w * 1e9 / rate) : 0;
        plan.connections = std::max(1, (connections + threads - 1) / threads);
        if (load.isolate) {
          plans.emplace_back();
          plan_loads.emplace_back();
          worker_nice.push_back(19);
          worker_cpus.emplace_back();
        }
        const size_t worker = load.isolate ? plans.size() - 1 : static_cast<size_t>(w);
        worker_nice[worker] = std::min(worker_nice[worker], load.nice);
        std::optional<std::vector<int>>& cpus = worker_cpus[worker];
        if (!cpus) {
          cpus = load.cpus;
        } else if (!cpus->empty()) {
          if (load.cpus.empty()) {
            cpus->clear();
          } else {
            cpus->insert(cpus->end(), load.cpus.begin(), load.cpus.end());
          }
        }
        plans[worker].push_back(std::move(plan));
        plan_loads[worker].push_back(l);
      }
    }
    const EngineConfig config = MakeEngineConfig(duration_ns);
    phase.interval_s = config.interval_ns / 1e9;
    std::vector<EngineResult> results(plans.size());
    const int64_t start_ns = SteadyNowNs() + 200'000'000;
    std::vector<std::thread> workers;
    for (size_t w = 0; w < plans.size(); ++w) {
      workers.emplace_back([&, w] {
        if (worker_nice[w] > 0) {
          if (absl::Status s = util::SetCurrentThreadNice(worker_nice[w]); !s.ok()) {
            RECD_LOG(Warning) << "engine thread: " << s.message();
          }
        }
        if (worker_cpus[w]) {
          if (absl::Status s = util::SetCurrentThreadCpus(*worker_cpus[w]); !s.ok()) {
            RECD_LOG(Warning) << "engine thread: " << s.message();
          }
        }
        results[w] = RunLoad(config, std::move(plans[w]), start_ns, stop_);
      });
    }
    RunActions(spec, start_ns, duration_ns, &phase.actions);
    for (std::thread& t : workers) t.join();
    for (size_t w = 0; w < results.size(); ++w) {
      const EngineResult& r = results[w];
      phase.sending_s = std::max(phase.sending_s, r.sending_ns / 1e9);
      phase.elapsed_s = std::max(phase.elapsed_s, r.elapsed_ns / 1e9);
      phase.exhausted = phase.exhausted || r.exhausted;
      phase.overhead.Merge(r.overhead).IgnoreError();
      for (size_t i = 0; i < plan_loads[w].size(); ++i) {
        AddSeries(spec.loads[plan_loads[w][i]].tenant, r.streams[i], &phase);
      }
    }
    return phase;
  }

  void RunActions(const PhaseSpec& spec, int64_t start_ns, int64_t duration_ns,
                  std::vector<ActionEvent>* events) {
    std::vector<std::pair<int64_t, const ActionSpec*>> due;
    for (const ActionSpec& action : spec.actions) {
      for (int64_t t = action.every_ns; t < duration_ns; t += action.every_ns) {
        due.emplace_back(start_ns + t, &action);
      }
    }
    std::sort(due.begin(), due.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [at_ns, action] : due) {
      // The archive is built while waiting, so the swap itself is only upload and activation.
      ActionEvent event;
      event.kind = action->kind;
      event.tenant = action->tenant;
      OnboardedTenant& tenant = tenants_.at(action->tenant);
      absl::StatusOr<std::string> tar = PrepareModel(&tenant, &event.version);
      while (SteadyNowNs() < at_ns && !stop_->load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(
            std::clamp<int64_t>((at_ns - SteadyNowNs()) / 1'000'000, 1, 50)));
      }
      if (stop_->load()) return;
      event.at_s = (SteadyNowNs() - start_ns) / 1e9;
      absl::Status s = tar.ok() ? ShipModel(tenant, *tar, &event) : tar.status();
      if (!s.ok()) event.error = std::string(s.message());
      events->push_back(std::move(event));
    }
  }

  absl::Status RunPhases() {
    for (size_t p = 0; p < scenario_.phases.size(); ++p) {
      if (stop_->load()) {
        report_.warnings.push_back("interrupted: the remaining phases did not run");
        break;
      }
      const PhaseSpec& spec = scenario_.phases[p];
      if (p > 0 || !report_.phases.empty()) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(scenario_.pause_ns));
      }
      if (spec.mode == PhaseMode::kSweep) {
        RECD_RETURN_IF_ERROR(RunSweep(spec, p));
        continue;
      }
      const int64_t duration = spec.duration_ns > 0 ? spec.duration_ns : scenario_.duration_ns;
      RECD_LOG(Info) << "phase " << spec.name << ": " << PhaseModeName(spec.mode) << " for "
                     << FormatDurationNs(duration);
      RECD_ASSIGN_OR_RETURN(PhaseResult phase,
                            RunOnce(spec, spec.name, scenario_.rate, duration, p));
      Finished(std::move(phase));
    }
    return absl::OkStatus();
  }

  void Finished(PhaseResult phase) {
    AddToTotals(phase, &report_);
    RunReport one;
    one.phases.push_back(std::move(phase));
    // Print each phase as it ends, so a long run shows progress.
    const std::string rendered = RenderText(one);
    const size_t begin = rendered.find("\n== phase");
    const size_t end = rendered.find("\n== answers");
    if (begin != std::string::npos) std::cout << rendered.substr(begin, end - begin) << std::flush;
    results_[one.phases.back().name] = report_.phases.size();
    report_.phases.push_back(std::move(one.phases.back()));
  }

  absl::Status RunSweep(const PhaseSpec& spec, size_t phase_index) {
    const SweepSpec& sweep = *spec.sweep;
    SweepResult result;
    result.phase = spec.name;
    result.p99_target_us = sweep.p99_target_us;
    result.max_error_ratio = sweep.max_error_ratio;
    double rate = sweep.start_rate;
    while (true) {
      if (stop_->load()) {
        result.stop_reason = "interrupted";
        break;
      }
      RECD_LOG(Info) << "sweep " << spec.name << ": " << rate << "/s for "
                     << FormatDurationNs(sweep.step_duration_ns);
      const std::string name = util::StrCat(spec.name, "@", absl::StrFormat("%.0f", rate));
      RECD_ASSIGN_OR_RETURN(PhaseResult phase,
                            RunOnce(spec, name, rate, sweep.step_duration_ns, phase_index));
      const EndpointStats merged = phase.Merged();
      SweepStep step;
      step.rate = rate;
      step.p50_us = merged.latency_us.ValueAtPercentile(50);
      step.p99_us = merged.latency_us.ValueAtPercentile(99);
      step.p999_us = merged.latency_us.ValueAtPercentile(99.9);
      // Errors over attempts: non-2xx answers plus requests that got no answer.
      int64_t unanswered = 0;
      for (int64_t f : merged.failures) unanswered += f;
      const int64_t attempts = merged.answered() + unanswered;
      step.error_ratio = attempts > 0 ? static_cast<double>(merged.failed()) / attempts : 1.0;
      step.throughput = phase.sending_s > 0 ? merged.ok() / phase.sending_s : 0;
      step.within_target = merged.answered() > 0 && step.p99_us <= sweep.p99_target_us &&
                           step.error_ratio <= sweep.max_error_ratio;
      result.steps.push_back(step);
      Finished(std::move(phase));
      if (!step.within_target) {
        result.stop_reason = util::StrCat("p99 ", FormatLatencyUs(step.p99_us), ", errors ",
                                          absl::StrFormat("%.2f%%", 100 * step.error_ratio), " at ",
                                          absl::StrFormat("%.0f", rate), "/s");
        break;
      }
      result.knee_rate = rate;
      const double next = sweep.step > 0 ? rate + sweep.step : rate * sweep.factor;
      if (next > sweep.max_rate * (1 + 1e-9)) {
        result.stop_reason = "reached max_rate within target";
        break;
      }
      rate = next;
      std::this_thread::sleep_for(std::chrono::nanoseconds(scenario_.pause_ns));
    }
    report_.sweeps.push_back(std::move(result));
    return absl::OkStatus();
  }

  void AddWarnings() {
    for (const PhaseResult& phase : report_.phases) {
      for (const auto& [tenant, lag] : phase.dispatch_lag_us) {
        if (lag.count() == 0 || lag.ValueAtPercentile(99) <= 1000) continue;
        report_.warnings.push_back(util::StrCat(
            "phase ", phase.name, ": the harness fell behind its schedule for ", tenant,
            " (dispatch lag p99 ", FormatLatencyUs(lag.ValueAtPercentile(99)),
            "): its latencies include harness delay; lower the rate, use --threads 2, or "
            "isolate the load"));
      }
      if (!phase.closed_loop && phase.backlog_max > 100) {
        report_.warnings.push_back(
            util::StrCat("phase ", phase.name, ": up to ", phase.backlog_max,
                         " requests waited for a free connection; if recd was not saturated, raise "
                         "connections"));
      }
    }
  }

  const CliOptions& options_;
  const Scenario& scenario_;
  const std::atomic<bool>* stop_;
  Target target_;
  std::string address_;
  std::unique_ptr<AdminClient> admin_;
  std::map<std::string, OnboardedTenant> tenants_;
  std::map<std::string, std::shared_ptr<const std::vector<ReplayEvent>>> replays_;
  std::map<std::string, size_t> results_;  // phase name -> index in report_.phases
  mutable RunReport report_;
};

}  // namespace

std::map<std::string, std::string> DescribeSetup() {
  std::map<std::string, std::string> setup;
  setup["cpu"] = util::CpuModelName();
  setup["cores"] = util::StrCat(std::thread::hardware_concurrency());
  setup["build"] = util::StrCat(RECD_BENCH_BUILD_TYPE, ", g++ ", __VERSION__);
  setup["started"] = util::FormatIsoTimestamp(util::SystemClock::Get().NowMs());
  return setup;
}

absl::StatusOr<RunReport> RunScenario(const CliOptions& options, const Scenario& scenario,
                                      const std::atomic<bool>* stop) {
  Runner runner(options, scenario, stop);
  return runner.Run();
}

absl::StatusOr<std::string> RunCalibration(const CliOptions& options,
                                           const std::atomic<bool>* stop) {
  RECD_ASSIGN_OR_RETURN(std::unique_ptr<TrivialServer> server, TrivialServer::Start(false));
  Target target;
  target.host = "127.0.0.1";
  target.port = server->port();
  target.host_header = util::StrCat("127.0.0.1:", server->port());
  const int64_t duration = options.duration_ns.value_or(5 * kSecondNs);
  const int connections = options.connections.value_or(32);
  const int threads = options.threads;
  auto run = [&](bool closed, double rate) {
    EngineConfig config;
    config.address = "127.0.0.1";
    config.port = server->port();
    config.duration_ns = duration;
    config.interval_ns = IntervalNs(duration);
    std::vector<EngineResult> results(static_cast<size_t>(threads));
    std::vector<std::thread> workers;
    const int64_t start = SteadyNowNs() + 100'000'000;
    for (int w = 0; w < threads; ++w) {
      workers.emplace_back([&, w] {
        std::vector<StreamPlan> plans(1);
        SyntheticConfig synthetic;
        synthetic.target = target;
        synthetic.server_key = "calibration";
        synthetic.recommend = 1;
        synthetic.users = 1000;
        synthetic.items = 1000;
        synthetic.seed = static_cast<uint64_t>(w + 1);
        plans[0].source = std::make_unique<SyntheticSource>(std::move(synthetic));
        plans[0].closed_loop = closed;
        plans[0].rate = rate / threads;
        plans[0].connections = std::max(1, connections / threads);
        plans[0].seed = static_cast<uint64_t>(w + 7);
        results[static_cast<size_t>(w)] = RunLoad(config, std::move(plans), start, stop);
      });
    }
    for (std::thread& t : workers) t.join();
    EndpointStats merged;
    EngineOverhead overhead;
    double sending_s = 0;
    for (const EngineResult& r : results) {
      merged.Merge(r.streams[0].endpoints[static_cast<int>(Endpoint::kRecommendations)])
          .IgnoreError();
      overhead.Merge(r.overhead).IgnoreError();
      sending_s = std::max(sending_s, r.sending_ns / 1e9);
    }
    return std::make_tuple(merged, overhead, sending_s);
  };
  std::string out;
  for (const auto& [key, value] : DescribeSetup()) util::StrAppend(&out, key, ": ", value, "\n");
  util::StrAppend(&out, "calibration against a trivial local HTTP server (1 thread, same machine, ",
                  "so it competes with the harness for the cores)\n");
  auto [closed_stats, closed_overhead, closed_s] = run(true, 0);
  const double max_rate = closed_s > 0 ? closed_stats.ok() / closed_s : 0;
  util::StrAppend(&out, "closed loop, ", connections, " connections, ", threads,
                  " thread(s): ", absl::StrFormat("%.0f", max_rate), " requests/s, p50 ",
                  FormatLatencyUs(closed_stats.latency_us.ValueAtPercentile(50)), ", p99 ",
                  FormatLatencyUs(closed_stats.latency_us.ValueAtPercentile(99)), "\n");
  const double open_rate = std::max(1.0, max_rate / 3);
  auto [open_stats, open_overhead, open_s] = run(false, open_rate);
  util::StrAppend(
      &out, "open loop at ", absl::StrFormat("%.0f", open_rate),
      "/s (a third): ", absl::StrFormat("%.0f", open_s > 0 ? open_stats.ok() / open_s : 0),
      " ok/s, latency p50 ", FormatLatencyUs(open_stats.latency_us.ValueAtPercentile(50)), " p99 ",
      FormatLatencyUs(open_stats.latency_us.ValueAtPercentile(99)), "; dispatch lag p50 ",
      FormatLatencyUs(open_overhead.dispatch_lag_us.ValueAtPercentile(50)), " p99 ",
      FormatLatencyUs(open_overhead.dispatch_lag_us.ValueAtPercentile(99)), " max ",
      FormatLatencyUs(open_overhead.dispatch_lag_us.max()), "\n");
  util::StrAppend(&out, "=> rates up to ", absl::StrFormat("%.0f", max_rate / 3),
                  "/s can be measured with a 3x margin on this machine and these settings\n");
  return out;
}

}  // namespace recd::bench
