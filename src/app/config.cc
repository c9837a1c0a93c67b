#include "app/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "util/strings.h"
#include "util/thread.h"

namespace recd::app {
namespace {

absl::Status KeyError(std::string_view key, std::string_view problem) {
  return absl::InvalidArgumentError(util::StrCat("config key \"", key, "\": ", problem));
}

// Reads typed values out of one TOML table, remembering which keys were consumed so that
// unknown (misspelt) keys are refused by name.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix)
      : table_(table), prefix_(std::move(prefix)) {}

  std::string Path(std::string_view key) const { return util::StrCat(prefix_, key); }

  absl::Status Int(std::string_view key, int64_t* out, int64_t lo, int64_t hi) {
    const toml::node* node = Take(key);
    if (node == nullptr) return absl::OkStatus();
    auto v = node->value<int64_t>();
    if (!node->is_integer() || !v) return KeyError(Path(key), "must be an integer");
    if (*v < lo || *v > hi) {
      return KeyError(Path(key), util::StrCat("must be between ", lo, " and ", hi));
    }
    *out = *v;
    return absl::OkStatus();
  }

  absl::Status Number(std::string_view key, double* out, double lo, double hi) {
    const toml::node* node = Take(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_number()) return KeyError(Path(key), "must be a number");
    double v = node->value<double>().value_or(0);
    if (!(v >= lo && v <= hi)) {
      return KeyError(Path(key), util::StrCat("must be between ", lo, " and ", hi));
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status String(std::string_view key, std::string* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_string()) return KeyError(Path(key), "must be a string");
    *out = *node->value<std::string>();
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key, bool* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_boolean()) return KeyError(Path(key), "must be true or false");
    *out = *node->value<bool>();
    return absl::OkStatus();
  }

  // A list of CPU numbers this process may use, e.g. [0, 1]; absent leaves `out` unchanged.
  absl::Status Cpus(std::string_view key, util::CpuList* out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) {
      return KeyError(Path(key), "must be a non-empty list of CPU numbers, e.g. [0, 1]");
    }
    util::CpuList cpus;
    for (const toml::node& e : *array) {
      auto v = e.value<int64_t>();
      if (!e.is_integer() || !v || *v < 0 || *v > 1023) {
        return KeyError(Path(key), "must list CPU numbers from 0 to 1023");
      }
      cpus.push_back(static_cast<int>(*v));
    }
    if (absl::Status s = util::CheckCpus(cpus); !s.ok())
      return KeyError(Path(key), util::ToStd(s.message()));
    *out = std::move(cpus);
    return absl::OkStatus();
  }

  const toml::table* Table(std::string_view key, absl::Status* status) {
    const toml::node* node = Take(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      *status = KeyError(Path(key), "must be a table");
      return nullptr;
    }
    return node->as_table();
  }

  absl::Status RejectUnknown() const {
    for (const auto& [k, v] : table_) {
      if (!taken_.contains(std::string(k.str()))) return KeyError(Path(k.str()), "unknown key");
    }
    return absl::OkStatus();
  }

 private:
  const toml::node* Take(std::string_view key) {
    taken_.insert(std::string(key));
    return table_.get(key);
  }
  const toml::table& table_;
  std::string prefix_;
  std::set<std::string> taken_;
};

absl::Status ReadTier(const toml::table& table, const std::string& prefix, sched::TierSpec* t) {
  TableReader r(table, prefix);
  std::string pool = t->pool == sched::PoolKind::kShared ? "shared" : "dedicated";
  RECD_RETURN_IF_ERROR(r.String("pool", &pool));
  if (pool == "shared") {
    t->pool = sched::PoolKind::kShared;
  } else if (pool == "dedicated") {
    t->pool = sched::PoolKind::kDedicated;
  } else {
    return KeyError(r.Path("pool"), "must be \"shared\" or \"dedicated\"");
  }
  int64_t threads = t->threads, queue = t->queue, nice = t->nice;
  RECD_RETURN_IF_ERROR(r.Int("threads", &threads, 1, 256));
  RECD_RETURN_IF_ERROR(r.Int("queue", &queue, 1, 1'000'000));
  RECD_RETURN_IF_ERROR(r.Int("nice", &nice, 0, 19));
  t->threads = static_cast<int>(threads);
  t->queue = static_cast<int>(queue);
  t->nice = static_cast<int>(nice);
  RECD_RETURN_IF_ERROR(r.Cpus("cpus", &t->cpus));
  auto& q = t->quotas;
  RECD_RETURN_IF_ERROR(r.Number("recommendations_per_s", &q.recommendations_per_s, 0.001, 1e9));
  RECD_RETURN_IF_ERROR(r.Number("events_per_s", &q.events_per_s, 0.001, 1e9));
  RECD_RETURN_IF_ERROR(r.Int("max_k", &q.max_k, 1, 1000));
  RECD_RETURN_IF_ERROR(r.Int("max_events_per_batch", &q.max_events_per_batch, 1, 1000));
  RECD_RETURN_IF_ERROR(r.Int("deadline_ms", &q.deadline_ms, 1, 600'000));
  RECD_RETURN_IF_ERROR(r.Int("retention_days", &q.retention_days, 1, 36'500));
  RECD_RETURN_IF_ERROR(r.Int("max_model_bytes", &q.max_model_bytes, 1, int64_t{1} << 40));
  RECD_RETURN_IF_ERROR(r.Int("max_inflight", &q.max_inflight, 1, 1'000'000));
  std::string durability(sched::DurabilityName(q.durability));
  RECD_RETURN_IF_ERROR(r.String("durability", &durability));
  auto d = sched::ParseDurability(durability);
  if (!d) return KeyError(r.Path("durability"), "must be \"process\" or \"power\"");
  q.durability = *d;
  std::string memory(sched::ModelMemoryName(q.model_memory));
  RECD_RETURN_IF_ERROR(r.String("model_memory", &memory));
  auto m = sched::ParseModelMemory(memory);
  if (!m) return KeyError(r.Path("model_memory"), "must be \"mapped\", \"prefetched\" or \"locked\"");
  q.model_memory = *m;
  return r.RejectUnknown();
}

}  // namespace

absl::Status SetListen(Config* config, std::string_view host_port) {
  size_t colon = host_port.rfind(':');
  uint32_t port = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      !util::ParseInt(host_port.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        util::StrCat("listen address \"", host_port, "\" must be HOST:PORT"));
  }
  std::string_view host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  config->listen_host = std::string(host);
  config->listen_port = static_cast<uint16_t>(port);
  return absl::OkStatus();
}

absl::StatusOr<Config> ParseConfig(std::string_view toml_text, std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return absl::InvalidArgumentError(util::StrCat(origin, ":", where.line, ":", where.column,
                                                   ": ", e.description()));
  }
  Config c;
  TableReader r(root, "");
  std::string listen;
  RECD_RETURN_IF_ERROR(r.String("listen", &listen));
  if (!listen.empty()) {
    absl::Status s = SetListen(&c, listen);
    if (!s.ok()) return KeyError("listen", util::ToStd(s.message()));
  }
  RECD_RETURN_IF_ERROR(r.String("data_dir", &c.data_dir));
  if (c.data_dir.empty()) return KeyError("data_dir", "must not be empty");
  int64_t io = c.io_threads, control = c.control_threads;
  int64_t priority_io = c.priority_io_threads, io_nice = c.io_nice;
  RECD_RETURN_IF_ERROR(r.Int("io_threads", &io, 1, 64));
  RECD_RETURN_IF_ERROR(r.Int("priority_io_threads", &priority_io, 0, 64));
  RECD_RETURN_IF_ERROR(r.Int("io_nice", &io_nice, 0, 19));
  RECD_RETURN_IF_ERROR(r.Int("control_threads", &control, 1, 16));
  c.io_threads = static_cast<int>(io);
  c.priority_io_threads = static_cast<int>(priority_io);
  c.io_nice = static_cast<int>(io_nice);
  c.control_threads = static_cast<int>(control);
  RECD_RETURN_IF_ERROR(r.String("admin_token", &c.admin_token));
  if (!c.admin_token.empty() && c.admin_token.size() < 16) {
    return KeyError("admin_token", "must be at least 16 characters");
  }
  RECD_RETURN_IF_ERROR(r.String("log_level", &c.log_level));
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warning" &&
      c.log_level != "error") {
    return KeyError("log_level", "must be debug, info, warning or error");
  }
  RECD_RETURN_IF_ERROR(r.Int("max_body_bytes", &c.max_body_bytes, 1024, int64_t{1} << 30));
  RECD_RETURN_IF_ERROR(r.Int("max_upload_bytes", &c.max_upload_bytes, 1024, int64_t{1} << 40));
  RECD_RETURN_IF_ERROR(r.Int("max_header_bytes", &c.max_header_bytes, 1024, 1 << 20));
  RECD_RETURN_IF_ERROR(r.Int("read_timeout_ms", &c.read_timeout_ms, 100, 3'600'000));
  RECD_RETURN_IF_ERROR(r.Int("idle_timeout_ms", &c.idle_timeout_ms, 100, 3'600'000));
  RECD_RETURN_IF_ERROR(r.Int("max_connections", &c.max_connections, 1, 1'000'000));
  RECD_RETURN_IF_ERROR(r.Int("shutdown_grace_s", &c.shutdown_grace_s, 0, 3600));
  // SPEC 7.2 names it max_future_skew (seconds); max_future_skew_s is its earlier name.
  int64_t skew = -1;
  int64_t skew_s = -1;
  RECD_RETURN_IF_ERROR(r.Int("max_future_skew", &skew, 0, 86400 * 365));
  RECD_RETURN_IF_ERROR(r.Int("max_future_skew_s", &skew_s, 0, 86400 * 365));
  if (skew >= 0 && skew_s >= 0) {
    return KeyError("max_future_skew_s", "is the old name of max_future_skew: set only one");
  }
  if (skew >= 0 || skew_s >= 0) c.max_future_skew_s = std::max(skew, skew_s);
  RECD_RETURN_IF_ERROR(r.Int("max_purge_days", &c.max_purge_days, 1, 365));
  RECD_RETURN_IF_ERROR(r.Bool("metrics_require_admin", &c.metrics_require_admin));
  RECD_RETURN_IF_ERROR(r.Int("max_tenant_labels", &c.max_tenant_labels, 0, 100'000));
  RECD_RETURN_IF_ERROR(r.String("model_root", &c.model_root));
  RECD_RETURN_IF_ERROR(r.Int("max_concurrent_uploads", &c.max_concurrent_uploads, 1, 64));
  RECD_RETURN_IF_ERROR(r.Bool("batch_scoring", &c.batch_scoring));
  RECD_RETURN_IF_ERROR(
      r.Int("f32_prefilter_min_rows", &c.f32_prefilter_min_rows, 0, 4'294'967'295));
  RECD_RETURN_IF_ERROR(r.Cpus("cpus", &c.cpus));
  RECD_RETURN_IF_ERROR(r.Cpus("io_cpus", &c.io_cpus));
  RECD_RETURN_IF_ERROR(r.Cpus("priority_io_cpus", &c.priority_io_cpus));

  absl::Status st;
  if (const toml::table* pop = r.Table("popularity", &st)) {
    TableReader pr(*pop, "popularity.");
    RECD_RETURN_IF_ERROR(pr.Number("half_life_s", &c.popularity.half_life_s, 0, 1e10));
    RECD_RETURN_IF_ERROR(pr.Number("default_weight", &c.popularity.default_weight, 1e-9, 1e9));
    if (const toml::table* w = pr.Table("event_weights", &st)) {
      for (const auto& [k, v] : *w) {
        std::string key = util::StrCat("popularity.event_weights.", k.str());
        auto d = v.value<double>();
        if (!v.is_number() || !d || !(*d > 0) || *d > 1e9) {
          return KeyError(key, "must be a number > 0");
        }
        c.popularity.event_weights[std::string(k.str())] = *d;
      }
    }
    RECD_RETURN_IF_ERROR(st);
    RECD_RETURN_IF_ERROR(pr.RejectUnknown());
  }
  RECD_RETURN_IF_ERROR(st);
  if (const toml::table* tiers = r.Table("tiers", &st)) {
    TableReader tr(*tiers, "tiers.");
    for (auto& spec : c.tiers.tiers) {
      std::string name(TierName(spec.tier));
      if (const toml::table* t = tr.Table(name, &st)) {
        RECD_RETURN_IF_ERROR(ReadTier(*t, util::StrCat("tiers.", name, "."), &spec));
      }
      RECD_RETURN_IF_ERROR(st);
    }
    RECD_RETURN_IF_ERROR(tr.RejectUnknown());
  }
  RECD_RETURN_IF_ERROR(st);
  RECD_RETURN_IF_ERROR(r.RejectUnknown());
  return c;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(util::StrCat("cannot read config file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace recd::app
