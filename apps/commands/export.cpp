// normlab export: writes a saved model in another form. --fold-bn folds every Dense ->
// BatchNormalization pair into one Dense (io/fold.h), keeping what --unfold needs to give the
// original model back bit for bit.
#include <cstdio>

#include "apps/commands/commands.h"
#include "core/error.h"
#include "io/fold.h"

namespace normlab {

int run_export(const ExportOptions& o) {
  check(o.fold_bn != o.unfold, "export: give exactly one of --fold-bn and --unfold");
  if (o.fold_bn) {
    fold_saved_model(o.model_dir, o.out);
    std::printf("Folded model written to %s\n", o.out.c_str());
  } else {
    unfold_saved_model(o.model_dir, o.out);
    std::printf("Unfolded model written to %s\n", o.out.c_str());
  }
  return 0;
}

}  // namespace normlab
