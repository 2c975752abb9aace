#include "judgebias/version.hpp"

namespace judgebias {

std::string_view version() noexcept {
  return JUDGEBIAS_VERSION;
}

}  // namespace judgebias
