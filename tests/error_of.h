// The message of the normlab::Error a call throws: what the tests compare error texts with.
#pragma once

#include <functional>
#include <string>

#include "core/error.h"

namespace normlab::testing {

// e.what() of the Error `f` throws, or "no error" when it returns.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace normlab::testing
