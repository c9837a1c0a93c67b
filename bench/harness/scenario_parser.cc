// TOML -> Scenario. Every value is read through TableReader, which knows each table's allowed
// keys, so a typo is an error naming the key (with a suggestion) instead of a silent default.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "bench/harness/scenario.h"
#include "bench/harness/units.h"
#include "recd/status.h"
#include "toml++/toml.h"
#include "util/strings.h"

namespace recd::bench {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    default:
      return "a date or time";
  }
}

bool MatchesIdPattern(std::string_view s, size_t max_len, bool allow_upper) {
  if (s.empty() || s.size() > max_len) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool ok = std::islower(c) || std::isdigit(c) || (allow_upper && std::isupper(c)) ||
                    (i > 0 && (c == '-' || c == '_'));
    if (!ok) return false;
  }
  return true;
}

bool IsEventType(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

// Reads one TOML table; `path` is its dotted key path ("" for the root, "phase[1].load[0]").
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, std::string_view source,
              std::vector<std::string> allowed)
      : table_(table), path_(std::move(path)), source_(source), allowed_(std::move(allowed)) {}

  absl::Status CheckKeys() const {
    for (auto&& [key, node] : table_) {
      const std::string_view k = key.str();
      if (std::find(allowed_.begin(), allowed_.end(), k) != allowed_.end()) continue;
      std::string hint;
      for (const std::string& candidate : allowed_) {
        if (EditDistance(k, candidate) <= 2) {
          hint = util::StrCat(" (did you mean '", candidate, "'?)");
          break;
        }
      }
      return ErrorAt(
          node, k,
          util::StrCat("unknown key", hint, "; allowed here: ", util::Join(allowed_, ", ")));
    }
    return absl::OkStatus();
  }

  bool Has(std::string_view key) const { return table_.contains(key); }
  const toml::node* Node(std::string_view key) const { return table_.get(key); }

  std::string Key(std::string_view key) const {
    return path_.empty() ? std::string(key) : util::StrCat(path_, ".", key);
  }

  absl::Status ErrorAt(const toml::node& node, std::string_view key,
                       std::string_view problem) const {
    return absl::InvalidArgumentError(
        util::StrCat(source_, ":", node.source().begin.line, ": key '", Key(key), "': ", problem));
  }
  absl::Status Missing(std::string_view key) const {
    return absl::InvalidArgumentError(util::StrCat(source_, ":", table_.source().begin.line,
                                                   ": key '", Key(key), "': missing (required)"));
  }

  absl::Status String(std::string_view key, std::string* out, bool required = false) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return required ? Missing(key) : absl::OkStatus();
    if (!node->is_string()) return WrongType(*node, key, "a string");
    *out = node->as_string()->get();
    return absl::OkStatus();
  }

  absl::Status Int(std::string_view key, int64_t* out, int64_t min, int64_t max,
                   bool required = false) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return required ? Missing(key) : absl::OkStatus();
    if (!node->is_integer()) return WrongType(*node, key, "an integer");
    const int64_t v = node->as_integer()->get();
    if (v < min || v > max) {
      return ErrorAt(*node, key, util::StrCat("must be in [", min, ", ", max, "], got ", v));
    }
    *out = v;
    return absl::OkStatus();
  }

  // A list of CPU numbers, e.g. [0, 1]; absent leaves `out` unchanged.
  absl::Status CpuList(std::string_view key, std::vector<int>* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) {
      return WrongType(*node, key, "a non-empty list of CPU numbers");
    }
    std::vector<int> cpus;
    for (const toml::node& e : *array) {
      if (!e.is_integer() || e.as_integer()->get() < 0 || e.as_integer()->get() > 1023) {
        return ErrorAt(e, key, "must list CPU numbers from 0 to 1023");
      }
      cpus.push_back(static_cast<int>(e.as_integer()->get()));
    }
    *out = std::move(cpus);
    return absl::OkStatus();
  }

  absl::Status Int32(std::string_view key, int* out, int min, int max) const {
    int64_t v = *out;
    if (absl::Status s = Int(key, &v, min, max); !s.ok()) return s;
    *out = static_cast<int>(v);
    return absl::OkStatus();
  }

  // Integers are accepted where numbers are. `min_exclusive` refuses `min` itself.
  absl::Status Double(std::string_view key, double* out, double min, bool min_exclusive,
                      double max = 1e15) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    return NumberValue(*node, key, out, min, min_exclusive, max);
  }

  absl::Status OptionalDouble(std::string_view key, std::optional<double>* out, double min,
                              bool min_exclusive) const {
    if (!Has(key)) return absl::OkStatus();
    double v = 0;
    if (absl::Status s = Double(key, &v, min, min_exclusive); !s.ok()) return s;
    *out = v;
    return absl::OkStatus();
  }

  absl::Status NumberValue(const toml::node& node, std::string_view key, double* out, double min,
                           bool min_exclusive, double max) const {
    double v = 0;
    if (node.is_integer()) {
      v = static_cast<double>(node.as_integer()->get());
    } else if (node.is_floating_point()) {
      v = node.as_floating_point()->get();
    } else {
      return WrongType(node, key, "a number");
    }
    if (!std::isfinite(v)) return ErrorAt(node, key, "must be a finite number");
    if (v < min || (min_exclusive && v == min)) {
      return ErrorAt(node, key,
                     util::StrCat("must be ", min_exclusive ? "> " : ">= ", min, ", got ", v));
    }
    if (v > max) return ErrorAt(node, key, util::StrCat("must be <= ", max, ", got ", v));
    *out = v;
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key, bool* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_boolean()) return WrongType(*node, key, "a boolean (true or false)");
    *out = node->as_boolean()->get();
    return absl::OkStatus();
  }

  absl::Status Duration(std::string_view key, int64_t* out_ns, bool allow_zero) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_string()) return WrongType(*node, key, "a duration string like \"30s\"");
    absl::StatusOr<int64_t> ns = ParseDurationNs(node->as_string()->get());
    if (!ns.ok()) return ErrorAt(*node, key, util::ToStd(ns.status().message()));
    if (*ns == 0 && !allow_zero) return ErrorAt(*node, key, "must be longer than zero");
    *out_ns = *ns;
    return absl::OkStatus();
  }

  absl::Status Choice(std::string_view key, std::string* out,
                      std::vector<std::string> choices) const {
    std::string v = *out;
    if (absl::Status s = String(key, &v); !s.ok()) return s;
    if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
      return ErrorAt(*table_.get(key), key,
                     util::StrCat("\"", v, "\" is not one of: ", util::Join(choices, ", ")));
    }
    *out = v;
    return absl::OkStatus();
  }

  // An inline table of name -> number >= 0.
  absl::Status NumberMap(std::string_view key, std::map<std::string, double>* out) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return absl::OkStatus();
    if (!node->is_table()) return WrongType(*node, key, "a table of numbers");
    out->clear();
    for (auto&& [name, value] : *node->as_table()) {
      const std::string full = util::StrCat(key, ".", name.str());
      double v = 0;
      if (absl::Status s = NumberValue(value, full, &v, 0, false, 1e15); !s.ok()) return s;
      (*out)[std::string(name.str())] = v;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<const toml::table*> Table(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) return WrongType(*node, key, "a table");
    return node->as_table();
  }

  // An array of tables ([[key]]); empty when absent.
  absl::StatusOr<std::vector<const toml::table*>> Tables(std::string_view key) const {
    std::vector<const toml::table*> tables;
    const toml::node* node = table_.get(key);
    if (node == nullptr) return tables;
    if (!node->is_array_of_tables()) {
      return WrongType(*node, key, util::StrCat("an array of tables ([[", key, "]])"));
    }
    for (auto&& element : *node->as_array()) tables.push_back(element.as_table());
    return tables;
  }

  const toml::table& table() const { return table_; }

 private:
  absl::Status WrongType(const toml::node& node, std::string_view key,
                         std::string_view expected) const {
    return ErrorAt(node, key,
                   util::StrCat("wrong type: expected ", expected, ", got ", TypeName(node)));
  }

  const toml::table& table_;
  std::string path_;
  std::string_view source_;
  std::vector<std::string> allowed_;
};

absl::Status ParseTenant(const TableReader& r, TenantSpec* t) {
  RECD_RETURN_IF_ERROR(r.CheckKeys());
  RECD_RETURN_IF_ERROR(r.String("name", &t->name, /*required=*/true));
  if (!MatchesIdPattern(t->name, 19, false) || t->name.find('_') != std::string::npos) {
    return r.ErrorAt(*r.Node("name"), "name",
                     util::StrCat("\"", t->name, "\" must match [a-z0-9][a-z0-9-]{0,18}"));
  }
  RECD_RETURN_IF_ERROR(r.String("tier", &t->tier));
  if (!MatchesIdPattern(t->tier, 32, false)) {
    return r.ErrorAt(*r.Node("tier"), "tier", util::StrCat("\"", t->tier, "\" is not a tier name"));
  }
  RECD_RETURN_IF_ERROR(r.Bool("model", &t->model));
  RECD_RETURN_IF_ERROR(r.Int("items", &t->items, 1, 10'000'000));
  RECD_RETURN_IF_ERROR(r.Int32("dim", &t->dim, 1, 4096));
  RECD_RETURN_IF_ERROR(r.Choice("kind", &t->kind, {"item_embeddings", "ials"}));
  RECD_RETURN_IF_ERROR(r.Choice("metric", &t->metric, {"dot", "cosine"}));
  RECD_RETURN_IF_ERROR(r.Choice("precision", &t->precision, {"float32", "int8"}));
  if (t->kind == "ials" && t->metric != "dot") {
    return r.ErrorAt(*r.Node("metric"), "metric", "kind \"ials\" requires metric \"dot\"");
  }
  if (t->kind == "ials" && t->dim > 512) {
    return r.ErrorAt(*r.Node("dim"), "dim", "kind \"ials\" allows dim at most 512");
  }
  RECD_RETURN_IF_ERROR(r.Int("users", &t->users, 1, 1'000'000'000));
  RECD_RETURN_IF_ERROR(r.Double("user_zipf", &t->user_zipf, 0, false, 10));
  RECD_RETURN_IF_ERROR(r.Double("item_zipf", &t->item_zipf, 0, false, 10));
  RECD_RETURN_IF_ERROR(r.Int("seed_events", &t->seed_events, 0, 1'000'000'000));
  RECD_RETURN_IF_ERROR(r.NumberMap("quotas", &t->quotas));
  return absl::OkStatus();
}

absl::Status ParseReplay(const TableReader& r, ReplaySpec* replay) {
  RECD_RETURN_IF_ERROR(r.CheckKeys());
  RECD_RETURN_IF_ERROR(r.String("path", &replay->path));
  RECD_RETURN_IF_ERROR(r.String("format", &replay->format, /*required=*/true));
  RECD_RETURN_IF_ERROR(r.Choice("format", &replay->format, {"movielens", "online-retail"}));
  int64_t batch = replay->batch;
  RECD_RETURN_IF_ERROR(r.Int("batch", &batch, 1, 1000));
  replay->batch = static_cast<int>(batch);
  RECD_RETURN_IF_ERROR(r.Int("limit", &replay->limit, 0, INT64_MAX));
  replay->event_type = replay->format == "movielens" ? "rating" : "purchase";
  RECD_RETURN_IF_ERROR(r.String("event_type", &replay->event_type));
  if (!IsEventType(replay->event_type)) {
    return r.ErrorAt(*r.Node("event_type"), "event_type", "must match [a-z_]{1,32}");
  }
  return absl::OkStatus();
}

absl::Status ParseLoad(const TableReader& r, const Scenario& scenario,
                       const std::vector<PhaseSpec>& earlier, PhaseMode mode, LoadSpec* load,
                       std::string_view source) {
  RECD_RETURN_IF_ERROR(r.CheckKeys());
  RECD_RETURN_IF_ERROR(r.String("tenant", &load->tenant, /*required=*/true));
  if (scenario.FindTenant(load->tenant) == nullptr) {
    std::vector<std::string> names;
    for (const TenantSpec& t : scenario.tenants) names.push_back(t.name);
    return r.ErrorAt(*r.Node("tenant"), "tenant",
                     util::StrCat("no [[tenant]] named \"", load->tenant,
                                  "\" (tenants: ", util::Join(names, ", "), ")"));
  }
  RECD_RETURN_IF_ERROR(r.OptionalDouble("rate", &load->rate, 0, /*min_exclusive=*/true));
  RECD_RETURN_IF_ERROR(r.OptionalDouble("share", &load->share, 0, /*min_exclusive=*/true));
  RECD_RETURN_IF_ERROR(r.String("rate_of", &load->rate_of));
  RECD_RETURN_IF_ERROR(r.Double("rate_factor", &load->rate_factor, 0, true));
  if (!load->rate_of.empty()) {
    const bool found = std::any_of(earlier.begin(), earlier.end(), [&](const PhaseSpec& p) {
      return p.name == load->rate_of && p.mode != PhaseMode::kSweep;
    });
    if (!found) {
      return r.ErrorAt(
          *r.Node("rate_of"), "rate_of",
          util::StrCat("\"", load->rate_of, "\" is not an earlier open or closed phase"));
    }
  }
  const int rate_specs =
      (load->rate ? 1 : 0) + (load->share ? 1 : 0) + (load->rate_of.empty() ? 0 : 1);
  if (rate_specs > 1) {
    return r.ErrorAt(r.table(), "rate", "give only one of rate, share and rate_of");
  }
  if (mode == PhaseMode::kOpen && rate_specs == 0) {
    return r.ErrorAt(r.table(), "rate", "missing: an open-loop load needs rate, share or rate_of");
  }
  if (mode == PhaseMode::kSweep && rate_specs == 0) {
    return r.ErrorAt(r.table(), "share", "missing: a sweep load needs share (or a fixed rate)");
  }
  if (r.Has("arrival")) {
    std::string text;
    RECD_RETURN_IF_ERROR(r.String("arrival", &text));
    absl::StatusOr<ArrivalKind> kind = ParseArrivalKind(text);
    if (!kind.ok())
      return r.ErrorAt(*r.Node("arrival"), "arrival", util::ToStd(kind.status().message()));
    load->arrival = *kind;
  }
  RECD_RETURN_IF_ERROR(r.Double("recommend", &load->recommend, 0, false));
  RECD_RETURN_IF_ERROR(r.Double("events", &load->events, 0, false));
  RECD_RETURN_IF_ERROR(r.Double("similar", &load->similar, 0, false));
  RECD_RETURN_IF_ERROR(r.Double("user_events", &load->user_events, 0, false));
  RECD_RETURN_IF_ERROR(r.Int32("batch", &load->batch, 1, 1000));
  RECD_RETURN_IF_ERROR(r.Int32("k", &load->k, 1, 1000));
  RECD_RETURN_IF_ERROR(r.Int32("history_limit", &load->history_limit, 1, 1000));
  RECD_RETURN_IF_ERROR(r.Int32("connections", &load->connections, 0, 10'000));
  RECD_RETURN_IF_ERROR(r.Bool("isolate", &load->isolate));
  RECD_RETURN_IF_ERROR(r.Int32("nice", &load->nice, 0, 19));
  RECD_RETURN_IF_ERROR(r.CpuList("cpus", &load->cpus));
  RECD_RETURN_IF_ERROR(r.NumberMap("event_types", &load->event_types));
  for (const auto& [type, weight] : load->event_types) {
    if (!IsEventType(type)) {
      return r.ErrorAt(*r.Node("event_types"), util::StrCat("event_types.", type),
                       "an event type must match [a-z_]{1,32}");
    }
  }
  if (!load->event_types.empty()) {
    double sum = 0;
    for (const auto& [type, weight] : load->event_types) sum += weight;
    if (sum <= 0) return r.ErrorAt(*r.Node("event_types"), "event_types", "all weights are 0");
  }
  absl::StatusOr<const toml::table*> replay = r.Table("replay");
  if (!replay.ok()) return replay.status();
  if (*replay != nullptr) {
    load->replay.emplace();
    TableReader rr(**replay, r.Key("replay"), source,
                   {"path", "format", "batch", "limit", "event_type"});
    RECD_RETURN_IF_ERROR(ParseReplay(rr, &*load->replay));
    if (load->recommend > 0 || load->similar > 0 || load->user_events > 0) {
      return r.ErrorAt(
          r.table(), "recommend",
          "a replay load sends only event batches; drop recommend, similar and user_events");
    }
  } else if (load->recommend + load->events + load->similar + load->user_events <= 0) {
    return r.ErrorAt(
        r.table(), "recommend",
        "missing: give at least one of recommend, events, similar, user_events a weight > 0");
  }
  if (load->similar > 0 && !scenario.FindTenant(load->tenant)->model) {
    return r.ErrorAt(*r.Node("similar"), "similar",
                     "tenant has model = false; similar-item calls need a model");
  }
  return absl::OkStatus();
}

absl::Status ParseSweep(const TableReader& r, SweepSpec* sweep) {
  RECD_RETURN_IF_ERROR(r.CheckKeys());
  RECD_RETURN_IF_ERROR(r.Double("start_rate", &sweep->start_rate, 0, true));
  RECD_RETURN_IF_ERROR(r.Double("step", &sweep->step, 0, true));
  RECD_RETURN_IF_ERROR(r.Double("factor", &sweep->factor, 1, true, 100));
  if ((sweep->step > 0) == (sweep->factor > 0)) {
    return r.ErrorAt(r.table(), "step", "give exactly one of step (added) and factor (multiplied)");
  }
  RECD_RETURN_IF_ERROR(r.Double("max_rate", &sweep->max_rate, 0, true));
  if (sweep->max_rate < sweep->start_rate) {
    return r.ErrorAt(*r.Node("max_rate"), "max_rate", "must be >= start_rate");
  }
  RECD_RETURN_IF_ERROR(r.Duration("step_duration", &sweep->step_duration_ns, false));
  int64_t target_ns = sweep->p99_target_us * 1000;
  RECD_RETURN_IF_ERROR(r.Duration("p99_target", &target_ns, false));
  sweep->p99_target_us = std::max<int64_t>(target_ns / 1000, 1);
  RECD_RETURN_IF_ERROR(r.Double("max_error_ratio", &sweep->max_error_ratio, 0, false, 1));
  return absl::OkStatus();
}

absl::Status ParsePhase(const TableReader& r, const Scenario& scenario, PhaseSpec* phase,
                        std::string_view source) {
  RECD_RETURN_IF_ERROR(r.CheckKeys());
  RECD_RETURN_IF_ERROR(r.String("name", &phase->name, /*required=*/true));
  if (!MatchesIdPattern(phase->name, 64, true)) {
    return r.ErrorAt(*r.Node("name"), "name", "must match [A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  }
  for (const PhaseSpec& p : scenario.phases) {
    if (p.name == phase->name) {
      return r.ErrorAt(*r.Node("name"), "name", util::StrCat("duplicate phase \"", p.name, "\""));
    }
  }
  std::string mode = "open";
  RECD_RETURN_IF_ERROR(r.Choice("mode", &mode, {"open", "closed", "sweep"}));
  phase->mode = mode == "open"     ? PhaseMode::kOpen
                : mode == "closed" ? PhaseMode::kClosed
                                   : PhaseMode::kSweep;
  RECD_RETURN_IF_ERROR(r.Duration("duration", &phase->duration_ns, false));
  absl::StatusOr<const toml::table*> sweep = r.Table("sweep");
  if (!sweep.ok()) return sweep.status();
  if (phase->mode == PhaseMode::kSweep) {
    if (*sweep == nullptr) return r.Missing("sweep");
    phase->sweep.emplace();
    TableReader sr(**sweep, r.Key("sweep"), source,
                   {"start_rate", "step", "factor", "max_rate", "step_duration", "p99_target",
                    "max_error_ratio"});
    RECD_RETURN_IF_ERROR(ParseSweep(sr, &*phase->sweep));
  } else if (*sweep != nullptr) {
    return r.ErrorAt(**sweep, "sweep", "only a phase with mode = \"sweep\" takes a sweep table");
  }
  absl::StatusOr<std::vector<const toml::table*>> loads = r.Tables("load");
  if (!loads.ok()) return loads.status();
  if (loads->empty()) return r.Missing("load");
  for (size_t i = 0; i < loads->size(); ++i) {
    TableReader lr(*(*loads)[i], util::StrCat(r.Key("load"), "[", i, "]"), source,
                   {"tenant", "rate", "share", "rate_of", "rate_factor", "arrival", "recommend",
                    "events", "similar", "user_events", "batch", "k", "history_limit",
                    "connections", "isolate", "nice", "cpus", "event_types", "replay"});
    LoadSpec load;
    RECD_RETURN_IF_ERROR(ParseLoad(lr, scenario, scenario.phases, phase->mode, &load, source));
    phase->loads.push_back(std::move(load));
  }
  absl::StatusOr<std::vector<const toml::table*>> actions = r.Tables("action");
  if (!actions.ok()) return actions.status();
  for (size_t i = 0; i < actions->size(); ++i) {
    TableReader ar(*(*actions)[i], util::StrCat(r.Key("action"), "[", i, "]"), source,
                   {"kind", "tenant", "every"});
    ActionSpec action;
    RECD_RETURN_IF_ERROR(ar.CheckKeys());
    RECD_RETURN_IF_ERROR(ar.String("kind", &action.kind, true));
    RECD_RETURN_IF_ERROR(ar.Choice("kind", &action.kind, {"swap_model"}));
    RECD_RETURN_IF_ERROR(ar.String("tenant", &action.tenant, true));
    const TenantSpec* tenant = scenario.FindTenant(action.tenant);
    if (tenant == nullptr || !tenant->model) {
      return ar.ErrorAt(*ar.Node("tenant"), "tenant",
                        util::StrCat("no [[tenant]] named \"", action.tenant, "\" with a model"));
    }
    RECD_RETURN_IF_ERROR(ar.Duration("every", &action.every_ns, false));
    phase->actions.push_back(std::move(action));
  }
  return absl::OkStatus();
}

absl::Status ParseRoot(const toml::table& root, std::string_view source, Scenario* s) {
  TableReader top(root, "", source, {"scenario", "tenant", "phase", "report"});
  RECD_RETURN_IF_ERROR(top.CheckKeys());
  absl::StatusOr<const toml::table*> head = top.Table("scenario");
  if (!head.ok()) return head.status();
  if (*head == nullptr) return top.Missing("scenario");
  TableReader r(**head, "scenario", source,
                {"name", "description", "duration", "pause", "rate", "arrival", "seed",
                 "connections", "timeout"});
  RECD_RETURN_IF_ERROR(r.CheckKeys());
  RECD_RETURN_IF_ERROR(r.String("name", &s->name));
  RECD_RETURN_IF_ERROR(r.String("description", &s->description));
  RECD_RETURN_IF_ERROR(r.Duration("duration", &s->duration_ns, false));
  RECD_RETURN_IF_ERROR(r.Duration("pause", &s->pause_ns, true));
  RECD_RETURN_IF_ERROR(r.Double("rate", &s->rate, 0, true));
  if (r.Has("arrival")) {
    std::string text;
    RECD_RETURN_IF_ERROR(r.String("arrival", &text));
    absl::StatusOr<ArrivalKind> kind = ParseArrivalKind(text);
    if (!kind.ok())
      return r.ErrorAt(*r.Node("arrival"), "arrival", util::ToStd(kind.status().message()));
    s->arrival = *kind;
  }
  int64_t seed = static_cast<int64_t>(s->seed);
  RECD_RETURN_IF_ERROR(r.Int("seed", &seed, 0, INT64_MAX));
  s->seed = static_cast<uint64_t>(seed);
  RECD_RETURN_IF_ERROR(r.Int32("connections", &s->connections, 1, 10'000));
  RECD_RETURN_IF_ERROR(r.Duration("timeout", &s->timeout_ns, false));

  absl::StatusOr<std::vector<const toml::table*>> tenants = top.Tables("tenant");
  if (!tenants.ok()) return tenants.status();
  if (tenants->empty()) return top.Missing("tenant");
  for (size_t i = 0; i < tenants->size(); ++i) {
    TableReader tr(*(*tenants)[i], util::StrCat("tenant[", i, "]"), source,
                   {"name", "tier", "model", "items", "dim", "kind", "metric", "precision", "users",
                    "user_zipf", "item_zipf", "seed_events", "quotas"});
    TenantSpec tenant;
    RECD_RETURN_IF_ERROR(ParseTenant(tr, &tenant));
    if (s->FindTenant(tenant.name) != nullptr) {
      return tr.ErrorAt(*tr.Node("name"), "name",
                        util::StrCat("duplicate tenant \"", tenant.name, "\""));
    }
    s->tenants.push_back(std::move(tenant));
  }

  absl::StatusOr<std::vector<const toml::table*>> phases = top.Tables("phase");
  if (!phases.ok()) return phases.status();
  if (phases->empty()) return top.Missing("phase");
  for (size_t i = 0; i < phases->size(); ++i) {
    TableReader pr(*(*phases)[i], util::StrCat("phase[", i, "]"), source,
                   {"name", "mode", "duration", "load", "sweep", "action"});
    PhaseSpec phase;
    RECD_RETURN_IF_ERROR(ParsePhase(pr, *s, &phase, source));
    s->phases.push_back(std::move(phase));
  }

  absl::StatusOr<const toml::table*> report = top.Table("report");
  if (!report.ok()) return report.status();
  if (*report != nullptr) {
    TableReader rr(**report, "report", source, {"tenant", "baseline", "test"});
    RECD_RETURN_IF_ERROR(rr.CheckKeys());
    CompareSpec compare;
    RECD_RETURN_IF_ERROR(rr.String("tenant", &compare.tenant, true));
    RECD_RETURN_IF_ERROR(rr.String("baseline", &compare.baseline, true));
    RECD_RETURN_IF_ERROR(rr.String("test", &compare.test, true));
    if (s->FindTenant(compare.tenant) == nullptr) {
      return rr.ErrorAt(*rr.Node("tenant"), "tenant",
                        util::StrCat("no [[tenant]] named \"", compare.tenant, "\""));
    }
    for (std::string_view key : {"baseline", "test"}) {
      const std::string& name = key == "baseline" ? compare.baseline : compare.test;
      const bool found = std::any_of(s->phases.begin(), s->phases.end(),
                                     [&](const PhaseSpec& p) { return p.name == name; });
      if (!found) {
        return rr.ErrorAt(*rr.Node(key), key, util::StrCat("no phase named \"", name, "\""));
      }
    }
    s->compare = std::move(compare);
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view PhaseModeName(PhaseMode mode) {
  switch (mode) {
    case PhaseMode::kOpen:
      return "open";
    case PhaseMode::kClosed:
      return "closed";
    case PhaseMode::kSweep:
      return "sweep";
  }
  return "open";
}

const TenantSpec* Scenario::FindTenant(std::string_view name) const {
  for (const TenantSpec& t : tenants) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

absl::StatusOr<Scenario> ParseScenario(std::string_view toml_text, std::string_view source) {
  // toml++ is built with exceptions; they stop here and become a Status (STYLE 2).
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(util::StrCat(source, ":", e.source().begin.line, ":",
                                                   e.source().begin.column,
                                                   ": TOML syntax: ", e.description()));
  }
  Scenario scenario;
  RECD_RETURN_IF_ERROR(ParseRoot(root, source, &scenario));
  if (scenario.name.empty()) {
    std::string_view base = source.substr(source.find_last_of('/') + 1);
    scenario.name = std::string(base.substr(0, base.rfind(".toml")));
  }
  return scenario;
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(util::StrCat("cannot read scenario file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseScenario(text.str(), path);
}

absl::StatusOr<Scenario> ResolveScenario(const std::string& name_or_path) {
  absl::StatusOr<std::string_view> builtin = BuiltinScenarioText(name_or_path);
  if (builtin.ok()) return ParseScenario(*builtin, util::StrCat("<builtin ", name_or_path, ">"));
  if (name_or_path.find('/') == std::string::npos &&
      name_or_path.find(".toml") == std::string::npos) {
    return absl::NotFoundError(
        util::StrCat("no built-in scenario \"", name_or_path,
                     "\" (built-in: ", util::Join(BuiltinScenarioNames(), ", "),
                     "); a file path must contain '/' or end in .toml"));
  }
  return LoadScenarioFile(name_or_path);
}

}  // namespace recd::bench
