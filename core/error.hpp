// Typed errors. Library code throws these with a message that names the
// option, file or value at fault; launch/ turns them into one line and an
// exit status (UsageError -> 2, everything else -> 1).
#pragma once

#include <stdexcept>  // std::runtime_error
#include <string>

namespace sinapsis {

// A bad option or option value chosen by the user.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A bad input file or bad data inside it.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A model that cannot be built or trained as asked (shapes, unit types).
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sinapsis
