#!/usr/bin/python3
"""Golden cases for normlab's reference tests, in the schema of tests/reference/cases/README.md.

    /usr/bin/python3 tests/reference_extra/generate.py        (Debian: apt-get install python3-torch)

writes the cases below and index.json next to this script. They complement the public set with
what it does not cover: BatchNormalization without center and scale, a softmax Dense without bias,
and four training trajectories (every loss, SGD with momentum and with Nesterov momentum, Adam
with an epsilon large enough that its placement matters, Dense layers without bias, tanh, and a
binary cross-entropy whose clipping bound is large enough to clip).

Semantics are Keras 3, exactly as that README states them. Expected values: PyTorch,
float64, CPU. Dense = x @ kernel + bias; BatchNormalization in training mode =
torch.nn.functional.batch_norm (native kernel, biased batch variance); keras_biased moving
statistics = moving * momentum + stat * (1 - momentum) with the biased variance; pytorch_unbiased =
PyTorch's own running-statistics update; losses = Keras formulas in torch operations, the
probabilities clipped to [clip_epsilon, 1 - clip_epsilon] as keras/src/backend/numpy/nn.py
(binary_crossentropy, categorical_crossentropy: np.clip(output, epsilon(), 1.0 - epsilon())) does,
with Keras' epsilon() = 1e-7 unless a case sets another clip_epsilon;
Adam = torch.optim.Adam with eps_t = eps / sqrt(1 - beta_2^t) before step t (the Keras 3 update),
SGD = torch.optim.SGD. Cross-checks, recorded in each case: the same run in float64 with the
batch normalization composed from primitive operations and the optimizers transcribed from Keras'
update_step, and the float32 runs that size the tolerances.

Tolerances follow the public set's rule: per quantity, rtol = 1e-4 and
atol = max(1e-5 x max|expected|, F x the largest deviation beyond rtol*|expected| in an ensemble of
float32 runs (native and composed batch normalization; identity, reversed and rotated row order
inside each batch)), F = 10 for single layers and 8 for trajectories, rounded up to two digits.
Every input is a dyadic rational with few significant bits, exact in float32.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL = 1e-4
CLIP = 1e-7  # Keras' backend epsilon for probability clipping
ORDERS = ["identity", "reverse", "rotate"]
CONVENTIONS = ["keras_biased", "pytorch_unbiased"]
TOLERANCE_RULE = "abs(actual - expected) <= atol + rtol * abs(expected), elementwise"
INPUTS_NOTE = ("all input numbers (data, initial weights, upstream gradients) are dyadic rationals, "
               "exactly representable in float32 and float64")
PRODUCED_BY = {
    "framework": "PyTorch",
    "version": torch.__version__,
    "dtype": "float64",
    "device": "cpu",
}


# ---------------------------------------------------------------------------------------------
# Inputs: dyadic rationals drawn from a seeded generator.

def dyadic(rng, shape, scale=1.0, bits=7):
    """Normal(0, scale) values rounded to multiples of 2^-bits (exact in float32)."""
    return np.round(rng.standard_normal(shape) * scale * 2**bits) / 2**bits


def permutation(order, n):
    if order == "identity":
        return list(range(n))
    if order == "reverse":
        return list(range(n - 1, -1, -1))
    return list(range(1, n)) + [0]  # rotate


# ---------------------------------------------------------------------------------------------
# Keras semantics in torch operations.

def activation(name, z):
    if name == "linear":
        return z
    if name == "relu":
        return torch.relu(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "softmax":
        return torch.softmax(z, dim=-1)
    raise ValueError(name)


def bn_train(x, gamma, beta, eps, native):
    """Training-mode batch normalization with the biased batch variance (two passes)."""
    if native:
        return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)
    y = (x - mean) / torch.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def bn_infer(x, gamma, beta, mm, mv, eps):
    return F.batch_norm(x, mm, mv, gamma, beta, training=False, eps=eps)


def update_moving(stats, x, momentum, native):
    """One training call's update of both conventions' moving statistics (no gradient)."""
    with torch.no_grad():
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        kb = stats["keras_biased"]
        kb["moving_mean"] = kb["moving_mean"] * momentum + mean * (1 - momentum)
        kb["moving_variance"] = kb["moving_variance"] * momentum + var * (1 - momentum)
        pu = stats["pytorch_unbiased"]
        if native:  # PyTorch's own running-statistics update
            F.batch_norm(x, pu["moving_mean"], pu["moving_variance"], None, None, training=True,
                         momentum=1 - momentum)
        else:
            n = x.shape[0]
            pu["moving_mean"] = pu["moving_mean"] * momentum + mean * (1 - momentum)
            pu["moving_variance"] = (pu["moving_variance"] * momentum
                                     + var * n / (n - 1) * (1 - momentum))


def loss_value(spec, p, y):
    name, logits = spec["name"], spec.get("from_logits", False)
    clip = spec.get("clip_epsilon", CLIP)
    if name == "mse":
        return ((p - y) ** 2).mean(-1).mean()
    if name == "binary_crossentropy":
        if logits:
            per = torch.clamp(p, min=0) - p * y + torch.log1p(torch.exp(-torch.abs(p)))
            return per.mean(-1).mean()
        q = torch.clamp(p, clip, 1 - clip)
        return (-(y * torch.log(q) + (1 - y) * torch.log(1 - q))).mean(-1).mean()
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        if name == "sparse_categorical_crossentropy":
            y = F.one_hot(y[:, 0].long(), p.shape[1]).to(p.dtype)
        if logits:
            return (-(y * torch.log_softmax(p, dim=-1)).sum(-1)).mean()
        q = torch.clamp(p / p.sum(-1, keepdim=True), clip, 1 - clip)
        return (-(y * torch.log(q)).sum(-1)).mean()
    raise ValueError(name)


# ---------------------------------------------------------------------------------------------
# Optimizers: torch.optim (expected values) and a transcription of Keras' update_step (check).

class TorchOptimizer:
    def __init__(self, spec, params, placement):
        self.spec, self.placement, self.t = spec, placement, 0
        if spec["name"] == "adam":
            self.opt = torch.optim.Adam(params, lr=spec["learning_rate"],
                                        betas=(spec["beta_1"], spec["beta_2"]),
                                        eps=spec["epsilon"])
        else:
            self.opt = torch.optim.SGD(params, lr=spec["learning_rate"],
                                       momentum=spec["momentum"], nesterov=spec["nesterov"])

    def step(self):
        self.t += 1
        if self.spec["name"] == "adam" and self.placement == "keras3":
            # Keras adds epsilon to sqrt(v) before the bias correction.
            eps = self.spec["epsilon"] / math.sqrt(1 - self.spec["beta_2"] ** self.t)
            for group in self.opt.param_groups:
                group["eps"] = eps
        self.opt.step()


class KerasOptimizer:
    """keras/src/optimizers/adam.py and sgd.py update_step, transcribed."""

    def __init__(self, spec, params, placement):
        self.spec, self.params, self.placement, self.t = spec, params, placement, 0
        self.slots = [[torch.zeros_like(p), torch.zeros_like(p)] for p in params]

    def step(self):
        self.t += 1
        s = self.spec
        with torch.no_grad():
            for p, (a, b) in zip(self.params, self.slots):
                g = p.grad
                lr = s["learning_rate"]
                if s["name"] == "adam":
                    b1, b2, t = s["beta_1"], s["beta_2"], self.t
                    a += (g - a) * (1 - b1)
                    b += (g * g - b) * (1 - b2)
                    if self.placement == "keras3":
                        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
                        p -= alpha * a / (torch.sqrt(b) + s["epsilon"])
                    else:
                        p -= lr * (a / (1 - b1**t)) / (torch.sqrt(b / (1 - b2**t)) + s["epsilon"])
                elif s["momentum"] == 0:
                    p -= lr * g
                else:
                    a.copy_(s["momentum"] * a - lr * g)
                    p += s["momentum"] * a - lr * g if s["nesterov"] else a


# ---------------------------------------------------------------------------------------------
# Training trajectories.

def run_trajectory(case, dtype, order="identity", native=True, keras_optimizer=False,
                   placement=None):
    """One run; returns {quantity path: numpy array} for every expected quantity."""
    layers, iw = case["model"]["layers"], case["initial_weights"]
    placement = placement or case["training"]["optimizer"].get("epsilon_convention")
    t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64), dtype=dtype)
    params, trainable, stats = [], [], []
    for spec, w in zip(layers, iw):
        p = {k: t(v).requires_grad_(k in ("kernel", "bias", "gamma", "beta")) for k, v in w.items()}
        params.append(p)
        trainable += [v for k, v in p.items() if v.requires_grad]
        stats.append({c: {"moving_mean": p["moving_mean"].detach().clone(),
                          "moving_variance": p["moving_variance"].detach().clone()}
                      for c in CONVENTIONS} if spec["type"] == "BatchNormalization" else None)
    opt_class = KerasOptimizer if keras_optimizer else TorchOptimizer
    opt = opt_class(case["training"]["optimizer"], trainable, placement)
    x_all, y_all = t(case["data"]["x"]), t(case["data"]["y"])

    def forward(x, training, convention="keras_biased"):
        h = x
        for spec, p, st in zip(layers, params, stats):
            if spec["type"] == "Dense":
                h = h @ p["kernel"] + (p["bias"] if "bias" in p else 0)
                h = activation(spec["activation"], h)
            elif spec["type"] == "Activation":
                h = activation(spec["activation"], h)
            elif training:
                update_moving(st, h.detach(), spec["momentum"], native)
                h = bn_train(h, p.get("gamma"), p.get("beta"), spec["epsilon"], native)
            else:
                h = bn_infer(h, p.get("gamma"), p.get("beta"), st[convention]["moving_mean"],
                             st[convention]["moving_variance"], spec["epsilon"])
        return h

    out, losses = {}, []
    for step, (start, end) in enumerate(case["training"]["batch_schedule"]):
        rows = [start + i for i in permutation(order, end - start)]
        for v in trainable:
            v.grad = None
        loss = loss_value(case["training"]["loss"], forward(x_all[rows], True), y_all[rows])
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            for i, p in enumerate(params):
                for k, v in p.items():
                    if v.requires_grad:
                        out[f"first_step_grads[{i}].{k}"] = v.grad.detach().numpy().copy()
        opt.step()
    out["per_step_loss"] = np.array(losses)
    for i, p in enumerate(params):
        for k, v in p.items():
            if v.requires_grad:
                out[f"final_weights[{i}].{k}"] = v.detach().numpy().copy()
    with torch.no_grad():
        for c in CONVENTIONS:
            for i, st in enumerate(stats):
                if st is not None:
                    for k in ("moving_mean", "moving_variance"):
                        out[f"final_moving_stats.{c}[{i}].{k}"] = st[c][k].numpy().copy()
            out[f"predictions_inference.{c}"] = forward(t(case["eval"]["x"]), False, c).numpy()
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def per_layer(case, q, prefix):
    """[{name: value} per layer] from the flat quantities "prefix[i].name"."""
    return [{k.split(".")[-1]: v for k, v in q.items() if k.startswith(f"{prefix}[{i}].")}
            for i in range(len(case["model"]["layers"]))]


def trajectory_expected(case, q):
    """The nested `expected` object of a trajectory from flat quantities."""
    moving = {c: [d or None for d in per_layer(case, q, f"final_moving_stats.{c}")]
              for c in CONVENTIONS}
    return {
        "per_step_loss": q["per_step_loss"],
        "first_step_grads": per_layer(case, q, "first_step_grads"),
        "final_weights": per_layer(case, q, "final_weights"),
        "final_moving_stats": moving,
        "predictions_inference": {c: q[f"predictions_inference.{c}"] for c in CONVENTIONS},
    }


# ---------------------------------------------------------------------------------------------
# Single layers: L = sum(upstream_grad * y).

def run_bn_layer(case, dtype, order="identity", native=True):
    spec, w = case["layer"], case["initial_weights"]
    n = len(case["inputs"]["x"])
    perm = permutation(order, n)
    inverse = np.argsort(perm)
    t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64), dtype=dtype)
    x = t(case["inputs"]["x"])[perm]
    dy = t(case["inputs"]["upstream_grad"])[perm]
    eps, momentum = spec["epsilon"], spec["momentum"]
    out = {}

    def grads(prefix, y, params):
        x_, g, b = params
        wanted = [v for v in (x_, g, b) if v is not None]
        got = torch.autograd.grad((dy * y).sum(), wanted)
        out[prefix + ".x"] = got[0][inverse]
        names = [k for k, v in (("gamma", g), ("beta", b)) if v is not None]
        for k, v in zip(names, got[1:]):
            out[f"{prefix}.{k}"] = v

    def fresh():
        xi = x.clone().requires_grad_(True)
        g = t(w["gamma"]).requires_grad_(True) if spec["scale"] else None
        b = t(w["beta"]).requires_grad_(True) if spec["center"] else None
        return xi, g, b

    mm, mv = t(w["moving_mean"]), t(w["moving_variance"])
    p = fresh()
    y = bn_infer(p[0], p[1], p[2], mm, mv, eps)
    out["forward_inference"] = y[inverse]
    grads("grads_inference", y, p)
    p = fresh()
    y = bn_train(p[0], p[1], p[2], eps, native)
    out["forward_training"] = y[inverse]
    grads("grads_training", y, p)
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)
    out["batch_mean"] = mean
    out["batch_variance_biased"] = var
    out["batch_variance_unbiased"] = var * n / (n - 1)
    stats = {c: {"moving_mean": mm.clone(), "moving_variance": mv.clone()} for c in CONVENTIONS}
    update_moving(stats, x, momentum, native)
    g = t(w["gamma"]) if spec["scale"] else None
    b = t(w["beta"]) if spec["center"] else None
    for c in CONVENTIONS:
        for k in ("moving_mean", "moving_variance"):
            out[f"moving_stats_after_one_training_call.{c}.{k}"] = stats[c][k]
        y = bn_infer(x, g, b, stats[c]["moving_mean"], stats[c]["moving_variance"], eps)
        out[f"forward_inference_after_update.{c}"] = y[inverse]
    return {k: v.detach().numpy().astype(np.float64) for k, v in out.items()}


def run_dense_layer(case, dtype, order="identity", native=True):
    spec, w = case["layer"], case["initial_weights"]
    perm = permutation(order, len(case["inputs"]["x"]))
    inverse = np.argsort(perm)
    t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64), dtype=dtype)
    x = t(case["inputs"]["x"])[perm].requires_grad_(True)
    dy = t(case["inputs"]["upstream_grad"])[perm]
    kernel = t(w["kernel"]).requires_grad_(True)
    params = [x, kernel]
    z = x @ kernel
    if spec["use_bias"]:
        bias = t(w["bias"]).requires_grad_(True)
        params.append(bias)
        z = z + bias
    y = activation(spec["activation"], z)
    got = torch.autograd.grad((dy * y).sum(), params)
    out = {"pre_activation": z[inverse], "forward": y[inverse], "grads.x": got[0][inverse],
           "grads.kernel": got[1]}
    if spec["use_bias"]:
        out["grads.bias"] = got[2]
    return {k: v.detach().numpy().astype(np.float64) for k, v in out.items()}


def nest(q, keys):
    """{"a.b": v} -> {"a": {"b": v}} for the given top-level keys, in that order."""
    out = {}
    for key in keys:
        for path, v in q.items():
            head, _, rest = path.partition(".")
            if head != key:
                continue
            if not rest:
                out[key] = v
                continue
            node = out.setdefault(key, {})
            parts = rest.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = v
    return out


# ---------------------------------------------------------------------------------------------
# Tolerances and cross-checks.

def max_abs_diff(a, b):
    return {k: float(np.max(np.abs(a[k] - b[k]), initial=0.0)) for k in a}


def round_up(x):
    """Rounds up to two significant digits."""
    if x <= 0:
        return 0.0
    e = math.floor(math.log10(x)) - 1
    return float(f"{math.ceil(x / 10**e - 1e-9) * 10**e:.2g}")


def tolerances(expected, runs, factor):
    """{quantity: {rtol, atol}} from the float32 runs (see the module documentation)."""
    out = {}
    for k, e in expected.items():
        excess = max(float(np.max(np.abs(r[k] - e) - RTOL * np.abs(e), initial=0.0)) for r in runs)
        magnitude = float(np.max(np.abs(e), initial=0.0))
        out[k] = {"rtol": RTOL, "atol": max(round_up(max(1e-5 * magnitude, factor * excess)), 1e-12)}
    return out


def float32_runs(run, case):
    """The ensemble: float32, native and composed batch normalization, three row orders."""
    labels, results = [], []
    for native in (True, False):
        for order in ORDERS:
            results.append(run(case, torch.float32, order, native))
            labels.append((native, order))
    return labels, results


def cross_checks(expected, composed64, labels, runs, extra=None):
    checks = [{
        "framework": "PyTorch", "version": torch.__version__, "dtype": "float64",
        "what": "batch normalization composed from primitive ops (autograd instead of the native "
                "batch_norm kernel)" + (extra or ""),
        "runs": 1, "max_abs_diff": max_abs_diff(expected, composed64)}]
    for native in (True, False):
        group = [r for (nat, _), r in zip(labels, runs) if nat == native]
        diffs = [max_abs_diff(expected, r) for r in group]
        checks.append({
            "framework": "PyTorch", "version": torch.__version__, "dtype": "float32",
            "row_orders": ORDERS,
            "what": "float32, " + ("native batch_norm kernel" if native else
                                   "batch normalization composed from primitive ops"),
            "runs": len(group),
            "max_abs_diff": {k: max(d[k] for d in diffs) for k in expected}})
    return checks


def tolerance_block(per_quantity, factor, notes=None):
    block = {
        "rule": TOLERANCE_RULE,
        "note": "Inputs are float32-exact dyadic numbers; expected values are float64 results on "
                "exactly those inputs. Tolerances are meant for a float32 implementation: atol = "
                f"max(1e-5 x max|expected|, {factor} x the largest deviation beyond "
                "rtol*|expected| seen in the float32 ensemble (PyTorch native + composed batch "
                "normalization; identity, reversed and rotated row order inside each batch)).",
        "per_quantity": per_quantity}
    if notes:
        block["notes"] = notes
    return block


GENERATED_BY = {
    "script": "tests/reference_extra/generate.py",
    "numpy": np.__version__,
    "torch": torch.__version__,
}


# ---------------------------------------------------------------------------------------------
# The cases.

def bn_case():
    rng = np.random.default_rng(101)
    n, d = 5, 3
    case = {
        "schema_version": 1,
        "id": "bn_b5_f3_no_center_scale",
        "visibility": "extra",
        "kind": "bn_single_layer",
        "description": "Batch 5, 3 features, center=false and scale=false (no gamma, no beta), "
                       "momentum 0.9, epsilon 0.01.",
        "layer": {"type": "BatchNormalization", "axis": -1, "momentum": 0.9, "epsilon": 0.01,
                  "center": False, "scale": False},
        "initial_weights": {
            "moving_mean": dyadic(rng, d, 0.5, 6),
            "moving_variance": 0.5 + np.abs(dyadic(rng, d, 0.5, 6)),
        },
        "inputs": {"x": dyadic(rng, (n, d), 1.5, 6) + np.array([0.5, -1.0, 2.0]),
                   "upstream_grad": dyadic(rng, (n, d), 1.0, 6)},
        "inputs_note": INPUTS_NOTE,
        "conventions": {
            "loss_for_gradients": "L = sum(upstream_grad * y), so dL/dy = upstream_grad",
            "forward_inference": "inference mode with the INITIAL moving statistics",
            "grads_inference": "gradients with the layer in inference mode (moving statistics "
                               "are constants)",
            "forward_training": "training mode: batch mean and biased batch variance",
            "moving_stats_after_one_training_call": "state after exactly one training-mode call "
                                                    "on x, for each variance convention",
            "forward_inference_after_update": "inference mode on x using the updated moving "
                                              "statistics",
        },
    }
    return single_layer_case(case, run_bn_layer, [
        "forward_inference", "grads_inference", "forward_training", "grads_training",
        "batch_mean", "batch_variance_biased", "batch_variance_unbiased",
        "moving_stats_after_one_training_call", "forward_inference_after_update"],
        "forward/backward: torch.nn.functional.batch_norm (native kernel, training=True / False) "
        "with torch.autograd. keras_biased moving stats: moving*momentum + stat*(1-momentum) with "
        "the biased variance. pytorch_unbiased: PyTorch's own running_mean/running_var update.")


def dense_case():
    rng = np.random.default_rng(202)
    case = {
        "schema_version": 1,
        "id": "dense_b3_in4_out3_softmax_nobias",
        "visibility": "extra",
        "kind": "dense_single_layer",
        "description": "Dense(3, softmax, use_bias=false) on a 3x4 batch.",
        "layer": {"type": "Dense", "units": 3, "activation": "softmax", "use_bias": False},
        "initial_weights": {"kernel": dyadic(rng, (4, 3), 0.6, 8)},
        "inputs": {"x": dyadic(rng, (3, 4), 1.0, 6), "upstream_grad": dyadic(rng, (3, 3), 1.0, 6)},
        "inputs_note": INPUTS_NOTE,
        "conventions": {
            "loss_for_gradients": "L = sum(upstream_grad * activation(x @ kernel)); "
                                  "dL/dy = upstream_grad",
            "kernel_layout": "kernel[in][out] (Keras layout); PyTorch nn.Linear.weight is its "
                             "transpose",
            "softmax": "over the last axis",
        },
    }
    return single_layer_case(case, run_dense_layer, ["pre_activation", "forward", "grads"],
                             "x @ kernel, activation, torch.autograd")


def single_layer_case(case, run, keys, method):
    expected = run(case, torch.float64)
    composed = run(case, torch.float64, "identity", False)
    labels, runs = float32_runs(run, case)
    case["expected"] = {"produced_by": dict(PRODUCED_BY, method=method), **nest(expected, keys)}
    case["tolerance"] = tolerance_block(tolerances(expected, runs, 10), 10)
    case["cross_checks"] = cross_checks(expected, composed, labels, runs)
    if case["kind"] == "bn_single_layer":
        diff = float(np.max(np.abs(
            expected["moving_stats_after_one_training_call.keras_biased.moving_variance"]
            - expected["moving_stats_after_one_training_call.pytorch_unbiased.moving_variance"])))
        case["variance_convention_check"] = {
            "max_abs_diff_moving_variance_keras_biased_vs_pytorch_unbiased": diff}
    case["generated_by"] = GENERATED_BY
    return case


def trajectory_case(case_id, description, seed, input_dim, layers, loss, optimizer, n=20,
                    batch_size=8, epochs=2, eval_rows=6, target=None):
    rng = np.random.default_rng(seed)
    iw, width = [], input_dim
    for spec in layers:
        if spec["type"] == "Dense":
            limit = math.sqrt(6 / (width + spec["units"]))  # glorot_uniform's range
            w = {"kernel": np.round(rng.uniform(-limit, limit, (width, spec["units"])) * 2**10)
                 / 2**10}
            if spec["use_bias"]:
                w["bias"] = dyadic(rng, spec["units"], 0.1, 8)
            width = spec["units"]
        elif spec["type"] == "BatchNormalization":
            w = {}
            if spec["scale"]:
                w["gamma"] = 1 + dyadic(rng, width, 0.1, 8)
            if spec["center"]:
                w["beta"] = dyadic(rng, width, 0.1, 8)
            w["moving_mean"] = np.zeros(width)
            w["moving_variance"] = np.ones(width)
        else:
            w = {}
        iw.append(w)
    x = dyadic(rng, (n, input_dim), 1.0, 7)
    schedule = [[s, min(s + batch_size, n)] for _ in range(epochs) for s in range(0, n, batch_size)]
    case = {
        "schema_version": 1,
        "id": case_id,
        "visibility": "extra",
        "kind": "training_trajectory",
        "description": description,
        "model": {"input_dim": input_dim, "layers": layers},
        "initial_weights": iw,
        "data": {"x": x, "y": target(rng, x)},
        "training": {"batch_size": batch_size, "shuffle": False, "steps": len(schedule),
                     "batch_schedule": schedule, "loss": loss, "optimizer": optimizer},
        "eval": {"x": dyadic(rng, (eval_rows, input_dim), 1.0, 7)},
        "inputs_note": INPUTS_NOTE,
        "conventions": {
            "step": "one optimizer step per entry of training.batch_schedule ([start, end) row "
                    "ranges of data.x / data.y, in order, never shuffled)",
            "per_step_loss": "loss of the batch in the training-mode forward pass with the "
                             "weights BEFORE that step's update (what train_on_batch returns)",
            "first_step_grads": "gradients of the step-1 loss w.r.t. every trainable weight",
            "final_weights": "trainable weights after the last step, one entry per layer",
            "final_moving_stats": "per layer (null for non-BN layers), after the last step, for "
                                  "each variance convention",
            "predictions_inference": "model output in inference mode on eval.x after training, "
                                     "for each variance convention",
        },
    }
    run = lambda c, dtype, order="identity", native=True: run_trajectory(c, dtype, order, native)
    expected = run(case, torch.float64)
    composed = run_trajectory(case, torch.float64, native=False, keras_optimizer=True)
    labels, runs = float32_runs(run, case)
    method = ("Dense = x @ kernel + bias; BN training forward = F.batch_norm(training=True); "
              "keras_biased moving stats = moving*momentum + batch_stat*(1-momentum) with the "
              "biased variance; pytorch_unbiased = PyTorch's own running-stat update; losses = "
              "Keras formulas in torch ops (clip " + str(loss.get("clip_epsilon", CLIP)) +
              "); optimizer = " +
              ("torch.optim.Adam with eps_t = eps/sqrt(1-beta_2^t)" if optimizer["name"] == "adam"
               else "torch.optim.SGD") + ".")
    case["expected"] = {"produced_by": dict(PRODUCED_BY, method=method),
                        **trajectory_expected(case, expected)}
    per_quantity = tolerances(expected, runs, 8)
    case["tolerance"] = tolerance_block(per_quantity, 8)
    case["cross_checks"] = cross_checks(
        expected, composed, labels, runs,
        "; optimizer transcribed from Keras' update_step instead of torch.optim")
    diffs = [float(np.max(np.abs(expected[f"final_moving_stats.keras_biased[{i}].moving_variance"]
                                 - expected[f"final_moving_stats.pytorch_unbiased[{i}]"
                                            ".moving_variance"])))
             for i, s in enumerate(layers) if s["type"] == "BatchNormalization"]
    case["variance_convention_check"] = {
        "max_abs_diff_moving_variance_keras_biased_vs_pytorch_unbiased": max(diffs),
        "max_abs_diff_predictions_inference": float(np.max(np.abs(
            expected["predictions_inference.keras_biased"]
            - expected["predictions_inference.pytorch_unbiased"])))}
    if optimizer["name"] == "adam":
        alt = lambda c, dtype, order="identity", native=True: {
            k: v for k, v in run_trajectory(c, dtype, order, native, placement="pytorch").items()
            if k == "per_step_loss" or k.startswith("final_weights")}
        alt_expected = alt(case, torch.float64)
        _, alt_runs = float32_runs(alt, case)
        keras_check = {k: v for k, v in run_trajectory(
            case, torch.float64, keras_optimizer=True, placement="pytorch").items()
            if k in alt_expected}
        block = {
            "what": "The same trajectory with the PyTorch / TF.js Adam epsilon placement "
                    "lr * m_hat / (sqrt(v_hat) + eps) instead of Keras 3's. NOT the expected "
                    "behaviour; recorded to show how large the difference is.",
            "produced_by": dict(PRODUCED_BY, method="torch.optim.Adam with a constant eps"),
            "per_step_loss": alt_expected["per_step_loss"],
            "final_weights": per_layer(case, alt_expected, "final_weights"),
            "max_abs_diff_vs_expected": {
                k: float(np.max(np.abs(alt_expected[k] - expected[k]))) for k in alt_expected},
            "max_abs_diff_vs_keras_transcription": max_abs_diff(alt_expected, keras_check),
        }
        for k, tol in tolerances(alt_expected, alt_runs, 8).items():
            per_quantity["alternative_adam_epsilon_placement." + k] = tol
        case["alternative_adam_epsilon_placement"] = block
    case["generated_by"] = GENERATED_BY
    return case


def binary_target(rng, x):
    score = x @ np.array([1.0, -0.75, 0.5, 0.25]) + 0.25
    return (score > 0).astype(np.float64).reshape(-1, 1)


def class_of(x):
    return np.argmax(x @ np.array([[1.0, -0.5, 0.25], [-0.5, 1.0, 0.5], [0.25, 0.5, -1.0],
                                   [0.5, -0.25, 0.75]]), axis=1)


def one_hot_target(rng, x):
    return np.eye(3)[class_of(x)]


def sparse_target(rng, x):
    return class_of(x).astype(np.float64).reshape(-1, 1)


def dense(units, act="linear", use_bias=True):
    return {"type": "Dense", "units": units, "activation": act, "use_bias": use_bias}


def batch_norm(momentum, epsilon=0.001, center=True, scale=True):
    return {"type": "BatchNormalization", "axis": -1, "momentum": momentum, "epsilon": epsilon,
            "center": center, "scale": scale}


def cases():
    yield bn_case()
    yield dense_case()
    yield trajectory_case(
        "traj_bce_sigmoid_sgd_momentum",
        "Dense(6, no bias)->BN(0.9)->tanh->Dense(1, sigmoid), binary_crossentropy, SGD "
        "(lr 0.05, momentum 0.9), 20 samples, batch 8 (last batch 4), 2 epochs (6 steps).",
        303, 4,
        [dense(6, use_bias=False), batch_norm(0.9), {"type": "Activation", "activation": "tanh"},
         dense(1, "sigmoid")],
        {"name": "binary_crossentropy", "from_logits": False, "clip_epsilon": CLIP,
         "reduction": "mean over outputs, then mean over batch"},
        {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9, "nesterov": False},
        target=binary_target)
    yield trajectory_case(
        "traj_bce_clip_epsilon_0375",
        "Dense(6)->BN(0.9)->Dense(1, sigmoid), binary_crossentropy with clip_epsilon 0.375 "
        "(Keras' epsilon() set to 0.375: probabilities outside [0.375, 0.625] are clipped and pass "
        "no gradient), SGD (lr 0.5), 20 samples, batch 8, 2 epochs (6 steps).",
        606, 4, [dense(6), batch_norm(0.9), dense(1, "sigmoid")],
        {"name": "binary_crossentropy", "from_logits": False, "clip_epsilon": 0.375,
         "reduction": "mean over outputs, then mean over batch"},
        {"name": "sgd", "learning_rate": 0.5, "momentum": 0.0, "nesterov": False},
        target=binary_target)
    yield trajectory_case(
        "traj_softmax_cce_adam",
        "Dense(6, relu)->BN(0.95)->Dense(3, softmax), categorical_crossentropy, Adam (lr 0.01, "
        "epsilon 0.01: the Keras 3 and PyTorch epsilon placements differ), 20 samples, batch 8, "
        "2 epochs (6 steps).",
        404, 4, [dense(6, "relu"), batch_norm(0.95), dense(3, "softmax")],
        {"name": "categorical_crossentropy", "from_logits": False, "clip_epsilon": CLIP,
         "reduction": "sum over classes, then mean over batch"},
        {"name": "adam", "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 0.01,
         "amsgrad": False, "epsilon_convention": "keras3"},
        target=one_hot_target)
    yield trajectory_case(
        "traj_sparse_logits_sgd_nesterov",
        "Dense(5, tanh)->BN(0.9, scale=false)->Dense(3), sparse_categorical_crossentropy "
        "from logits, SGD (lr 0.1, Nesterov momentum 0.8), 20 samples, batch 8, 2 epochs.",
        505, 4, [dense(5, "tanh"), batch_norm(0.9, scale=False), dense(3)],
        {"name": "sparse_categorical_crossentropy", "from_logits": True, "clip_epsilon": CLIP,
         "reduction": "sum over classes, then mean over batch"},
        {"name": "sgd", "learning_rate": 0.1, "momentum": 0.8, "nesterov": True},
        target=sparse_target)


# ---------------------------------------------------------------------------------------------
# Output: pretty-printed JSON, arrays of numbers on one line, matrices one row per line.

def plain(value):
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def dump(value, indent=0):
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad}  {json.dumps(k)}: {dump(v, indent + 2)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return json.dumps(value)
        rows = [pad + "  " + dump(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return json.dumps(value)


def main():
    torch.set_num_threads(1)
    index = {"schema_version": 1, "cases": []}
    for case in cases():
        case = plain(case)
        name = case["id"] + ".json"
        with open(os.path.join(HERE, name), "w") as f:
            f.write(dump(case) + "\n")
        index["cases"].append({"id": case["id"], "kind": case["kind"],
                               "description": case["description"], "file": name})
        print("wrote", name)
    with open(os.path.join(HERE, "index.json"), "w") as f:
        f.write(dump(index) + "\n")


if __name__ == "__main__":
    main()
