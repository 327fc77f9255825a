/// @file
/// @verbatim
/// normlab: everything a program needs, in one include.
///   #include <normlab/normlab.h>
/// @endverbatim
#pragma once

#include "core/blas.h"
#include "core/error.h"
#include "core/layer.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "core/version.h"
#include "data/batcher.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/generators.h"
#include "io/checkpoint.h"
#include "io/model_file.h"
#include "io/train_config.h"
#include "layers/activation_layer.h"
#include "layers/batch_normalization.h"
#include "layers/dense.h"
#include "layers/presets.h"
#include "layers/registry.h"
#include "model/callbacks.h"
#include "model/csv_logger.h"
#include "model/losses.h"
#include "model/metrics.h"
#include "model/progress_bar.h"
#include "model/sequential.h"
#include "model/step_logger.h"
#include "optim/adam.h"
#include "optim/registry.h"
#include "optim/sgd.h"
