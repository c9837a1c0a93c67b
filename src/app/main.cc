// recd: the command line. `recd serve` runs the daemon in the foreground until SIGTERM/SIGINT;
// SIGHUP reloads tiers and limits from the config file.
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/daemon.h"
#include "model/model_folder.h"
#include "util/log.h"
#include "util/strings.h"

namespace {

constexpr char kUsage[] =
    "recd " RECD_VERSION " - real-time recommendations for many tenants in one process\n"
    "\n"
    "Usage:\n"
    "  recd serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR]\n"
    "      Run the daemon in the foreground, logging to stderr. Flags override the config\n"
    "      file; without a config it serves on 127.0.0.1:8080 with data in ./data.\n"
    "      --listen 127.0.0.1:0 picks a free port and logs the one chosen.\n"
    "      Environment: RECD_ADMIN_TOKEN sets the admin token; RECD_SIMD_LEVEL forces\n"
    "      scalar|avx2|avx512 scoring kernels.\n"
    "      Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP reloads tiers and limits.\n"
    "  recd model check FOLDER [--max-model-bytes N] [--prefilter-min-rows N]\n"
    "      Validate a model folder offline with the same code and messages as an upload;\n"
    "      exit 0 and a summary when the daemon would accept it, else exit 1 and the problem.\n"
    "      The limits default to the daemon's (256 MiB; a float32 model of 10000 rows or\n"
    "      more gets an int8 prefilter copy); pass the deployment's tier max_model_bytes and\n"
    "      f32_prefilter_min_rows to size the file as its upload would.\n"
    "  recd --version\n"
    "  recd --help\n";

struct ServeArgs {
  std::string config_path;
  std::string listen;
  std::string data_dir;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "recd: %s\n", message.c_str());
  return 2;
}

absl::StatusOr<recd::app::Config> BuildConfig(const ServeArgs& args) {
  recd::app::Config config;
  if (!args.config_path.empty()) {
    RECD_ASSIGN_OR_RETURN(config, recd::app::LoadConfigFile(args.config_path));
  }
  if (!args.listen.empty()) RECD_RETURN_IF_ERROR(recd::app::SetListen(&config, args.listen));
  if (!args.data_dir.empty()) config.data_dir = args.data_dir;
  return config;
}

void ApplyLogLevel(const std::string& level) {
  using recd::util::LogLevel;
  recd::util::SetMinLogLevel(level == "debug"     ? LogLevel::kDebug
                             : level == "warning" ? LogLevel::kWarning
                             : level == "error"   ? LogLevel::kError
                                                  : LogLevel::kInfo);
}

int Serve(const ServeArgs& args) {
  auto config = BuildConfig(args);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  ApplyLogLevel(config->log_level);

  // Block the signals in every thread (threads inherit the mask); the main thread waits for
  // them synchronously, so no handler ever runs in a random thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto daemon = recd::app::Daemon::Start(*config);
  if (!daemon.ok()) {
    RECD_LOG(Error) << "cannot start: " << daemon.status();
    return 1;
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (args.config_path.empty()) {
        RECD_LOG(Warning) << "SIGHUP: no config file to reload";
        continue;
      }
      auto fresh = BuildConfig(args);
      if (!fresh.ok()) {
        RECD_LOG(Error) << "SIGHUP: config refused, keeping the current one: " << fresh.status();
        continue;
      }
      auto st = (*daemon)->Reload(*fresh);
      if (!st.ok()) RECD_LOG(Error) << "SIGHUP: reload refused: " << st;
      continue;
    }
    RECD_LOG(Info) << "received " << strsignal(sig);
    break;
  }
  (*daemon)->Shutdown();
  return 0;
}

// `recd model check FOLDER`: a training pipeline checks its output before deploying it.
int ModelCheck(const std::vector<std::string>& args) {
  if (args.size() < 3 || args[1] != "check") return Fail("usage: recd model check FOLDER");
  recd::model::ImportOptions options;
  std::string folder;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--max-model-bytes" && i + 1 < args.size()) {
      int64_t n = 0;
      if (!recd::util::ParseInt(args[++i], &n) || n <= 0) {
        return Fail("--max-model-bytes needs a positive integer");
      }
      options.max_model_bytes = static_cast<uint64_t>(n);
    } else if (args[i] == "--prefilter-min-rows" && i + 1 < args.size()) {
      int64_t n = 0;
      if (!recd::util::ParseInt(args[++i], &n) || n < 0 || n > UINT32_MAX) {
        return Fail("--prefilter-min-rows needs an integer from 0 to 4294967295");
      }
      options.prefilter_min_rows = static_cast<uint32_t>(n);
    } else if (folder.empty() && args[i].rfind("--", 0) != 0) {
      folder = args[i];
    } else {
      return Fail("unknown argument \"" + args[i] + "\" (see recd --help)");
    }
  }
  if (folder.empty()) return Fail("usage: recd model check FOLDER");
  recd::model::CheckResult result;
  absl::Status st = recd::model::CheckModelFolder(folder, options, &result);
  if (!st.ok()) {
    std::fprintf(stderr, "recd: model %s refused: %s\n", folder.c_str(),
                 std::string(st.message()).c_str());
    return 1;
  }
  std::printf("ok: %s %s %s, dim %u, %u items, %llu bytes compiled%s\n",
              std::string(recd::model::KindName(result.kind)).c_str(),
              std::string(recd::model::MetricName(result.metric)).c_str(),
              std::string(recd::model::PrecisionName(result.precision)).c_str(), result.dim,
              result.items, static_cast<unsigned long long>(result.compiled_bytes),
              result.f32_prefilter_copy ? " (with the int8 prefilter copy)" : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("recd %s\n", RECD_VERSION);
    return 0;
  }
  if (args[0] == "model") return ModelCheck(args);
  if (args[0] != "serve") return Fail("unknown command \"" + args[0] + "\" (see recd --help)");
  ServeArgs serve;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    bool ok = true;
    if (a == "--config") {
      ok = value(&serve.config_path);
    } else if (a == "--listen") {
      ok = value(&serve.listen);
    } else if (a == "--data-dir") {
      ok = value(&serve.data_dir);
    } else if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return Fail("unknown flag \"" + a + "\" (see recd --help)");
    }
    if (!ok) return Fail("flag " + a + " needs a value");
  }
  return Serve(serve);
}
