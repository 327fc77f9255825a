/// @file
/// @verbatim
/// Reversible BatchNormalization folding. Every Dense (linear activation) directly followed by
/// a BatchNormalization computes, in inference mode,
///   y = gamma (x W + b - mu) / sqrt(var + eps) + beta
/// which is one Dense with, per output channel j (s_j = gamma_j / sqrt(var_j + eps)):
///   W'_kj = W_kj s_j
///   b'_j  = (b_j - mu_j) s_j + beta_j          (b = 0 when the Dense has no bias)
/// mu, var are moving_mean and moving_variance; gamma = 1 without scale, beta = 0 without
/// center. The folded model is an ordinary Keras Sequential that TensorFlow.js loads.
///
/// Folding rounds, so it is not invertible from W' and b'. The folded model therefore records
/// each pair it replaced, in userDefinedMetadata.normlab.folded:
///   {"pairs": [{"index": i,                            the folded Dense's index
///               "dense": {"class_name", "config"},     the original Dense, as saved
///               "dense_weights": {"kernel": "<hex>", "bias": "<hex>"},
///               "batch_normalization": {"class_name", "config"},
///               "batch_normalization_weights": {"gamma": "<hex>", ...every variable}}, ...]}
/// Each "<hex>" is the array's float32 bit patterns, 8 hex digits per value in row-major order,
/// so unfolding gives back every weight bit for bit (a decimal would depend on the reader's
/// rounding). Unfolding rebuilds the original layers from these records and copies every
/// other layer unchanged.
/// @endverbatim
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "model/sequential.h"

namespace normlab {

/// A model with its Dense -> BatchNormalization pairs folded, and what unfolding needs.
struct FoldedModel {
  Sequential model;       ///< compiled as the original was
  nlohmann::json record;  ///< {"pairs": [...]}, see the file documentation
};

/// Folds every Dense (linear activation) -> BatchNormalization pair of `model`, which is not
/// changed. Throws when there is no such pair, or a weight to record is not finite.
FoldedModel fold_batchnorm(Sequential& model);

/// The model fold_batchnorm was given, from its folded form and record: the same layers, names,
/// configs and weights, bit for bit. `where` names the record in messages.
Sequential unfold_batchnorm(Sequential& folded, const nlohmann::json& record,
                            const std::string& where);

/// Reads the saved model in `in`, folds it and saves the result (atomically) in `out`, with the
/// record in userDefinedMetadata.normlab.folded and the rest of the metadata unchanged.
void fold_saved_model(const std::filesystem::path& in, const std::filesystem::path& out);

/// The reverse: reads a folded model and saves the original one in `out`; its weights.bin is
/// byte for byte the one the original model was saved with.
void unfold_saved_model(const std::filesystem::path& in, const std::filesystem::path& out);

}  // namespace normlab
