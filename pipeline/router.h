// Router: addresses each bootstrap record to zero or more function instances (statefun's Router).
//
// Route() is called on reader threads, concurrently, so a Router must not keep mutable state. It
// forwards the record itself, or a derived payload record, to any number of addresses; the payload is
// what the function's Bootstrap() receives. Returning a non-OK status rejects the record: the runtime
// adds the record's source position and fails the run.

#ifndef SFB_PIPELINE_ROUTER_H_
#define SFB_PIPELINE_ROUTER_H_

#include <string>

#include "common/record.h"
#include "common/status.h"

namespace sfb {

class Downstream {
 public:
  virtual ~Downstream() = default;
  // Sends the record being routed to function_type/id.
  virtual Status Forward(const std::string& function_type, const std::string& id) = 0;
  // Sends `payload` instead of the record being routed.
  virtual Status Forward(const std::string& function_type, const std::string& id, const Record& payload) = 0;
};

class Router {
 public:
  virtual ~Router() = default;
  virtual Status Route(const Record& record, Downstream& downstream) const = 0;
};

}  // namespace sfb

#endif  // SFB_PIPELINE_ROUTER_H_
