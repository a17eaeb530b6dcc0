// Fuzzes the job spec parser: any text must parse to a JobSpec or an InvalidSpec status with a location,
// never crash (yaml-cpp exceptions are converted at the boundary).

#include <cstddef>
#include <cstdint>
#include <string>

#include "job/job_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto job = sfb::ParseJobSpec(text, "fuzz.yaml", "/tmp");
  if (!job.ok() && job.status().location().empty()) {
    // Every spec error must say where it is.
    __builtin_trap();
  }
  return 0;
}
