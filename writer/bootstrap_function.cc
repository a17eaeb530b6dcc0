#include "writer/bootstrap_function.h"

namespace sfb {

size_t StateBootstrapFunction::DeclareState(StateSpec spec) {
  slots_.push_back(Slot{std::move(spec), std::nullopt});
  return slots_.size() - 1;
}

}  // namespace sfb
