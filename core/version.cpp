#include "core/version.h"

namespace normlab {

const char* version() {
  return NORMLAB_VERSION;
}

}  // namespace normlab
