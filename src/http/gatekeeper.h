// Admission, decided on the I/O thread from the headers alone (SPEC 7.4 order, 7.6): who is
// calling (401), may they (403: scope, suspended), and which pool runs the work. Thread-safe.
#pragma once

#include <memory>

#include "control/identity.h"
#include "http/router.h"
#include "sched/worker_pool.h"

namespace recd::http {

// What admission grants: the caller and the pool. `hold` is released when the request ends
// (in-flight accounting rides on it).
struct Ticket {
  CallContext ctx;
  sched::WorkerPool* pool = nullptr;
  int64_t deadline_mono_ns = 0;  // 0: none
  std::shared_ptr<void> hold;
};

class Gatekeeper {
 public:
  virtual ~Gatekeeper() = default;
  virtual absl::StatusOr<Ticket> Admit(const Route& route, const Request& request) = 0;
};

// Issue-2 admission: admin routes run on the control pool, tenant routes on one shared pool.
// The tier scheduler replaces the pool choice and adds rate limits.
class BasicGatekeeper final : public Gatekeeper {
 public:
  BasicGatekeeper(const control::Identity* identity, sched::WorkerPool* control_pool,
                  sched::WorkerPool* request_pool)
      : identity_(identity), control_pool_(control_pool), request_pool_(request_pool) {}
  absl::StatusOr<Ticket> Admit(const Route& route, const Request& request) override;

 private:
  const control::Identity* identity_;
  sched::WorkerPool* control_pool_;
  sched::WorkerPool* request_pool_;
};

// Credentials and permission only (shared by gatekeepers): 401/403 as the SPEC orders them.
absl::StatusOr<CallContext> Authorize(const control::Identity& identity, const Route& route,
                                      const Request& request);

}  // namespace recd::http
