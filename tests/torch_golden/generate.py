#!/usr/bin/python3
"""Golden values for normlab's BatchNormalization options, computed by PyTorch in float64.

Run with Debian's interpreter, which has python3-torch and python3-numpy
(apt-get install -y python3-torch python3-numpy):

    /usr/bin/python3 tests/torch_golden/generate.py [OUT_DIR]

It writes into OUT_DIR (default: this script's folder) one JSON file per case; the test suite
(tests/test_batchnorm_options.cpp) reads the committed files, and re-runs this script into a
temporary folder to check that it reproduces them when /usr/bin/python3 can import torch.

Every input is a dyadic rational (exact in float32); every expected value is a float64 result.

  cumulative_average.json   torch.nn.BatchNorm1d(momentum=None): the cumulative average over
                            batches of different sizes (unbiased running variance,
                            num_batches_tracked), the training outputs and an inference output.
  pytorch_preset_training.json
                            Linear(4, 8, bias=False) -> BatchNorm1d(8, momentum=0.01, eps=1e-5)
                            -> ReLU -> Linear(8, 1), MSE, torch.optim.Adam(lr=0.01, eps=1e-8):
                            per-step losses, final weights, running statistics, predictions.
  renorm_reference.json     Batch renormalization as tf.keras 2.x computes it
                            (_renorm_correction_and_moments: r and d from the renorm statistics
                            before the update, clipped, under stop_gradient; renorm_mean and
                            renorm_stddev kept apart; the inference variance through
                            moving_stddev), transcribed into torch operations and differentiated
                            by autograd, over three steps with some features clipped.
  ghost_batch_reference.json
                            tf.keras 2.x's virtual_batch_size: the batch reshaped to (k, N/k, D),
                            moments over the first axis, the moving statistics updated with the
                            mean over ghost batches; autograd gradients.
  weighted_moments_reference.json
                            tf.nn.weighted_moments' mean and variance with per-row weights,
                            normalization and autograd gradients, the moving statistics.
"""
import json
import os
import sys

import torch

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(20240531)


def dyadic(rows, cols, scale=8, low=-24, high=25):
    """Integers in [low, high) divided by `scale`: exact in float32."""
    return torch.randint(low, high, (rows, cols), generator=GEN).double() / scale


def listify(t):
    return t.detach().tolist()


def write(out_dir, name, case):
    case["generated_by"] = "tests/torch_golden/generate.py with torch " + torch.__version__
    with open(os.path.join(out_dir, name), "w") as f:
        json.dump(case, f, indent=1, sort_keys=True)
        f.write("\n")


def cumulative_average():
    features, eps = 3, 1e-5
    bn = torch.nn.BatchNorm1d(features, eps=eps, momentum=None)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.5, 0.5, -1.0]))
        bn.bias.copy_(torch.tensor([0.25, -0.5, 2.0]))
    bn.train()
    steps = []
    for n in [4, 7, 2, 5]:
        x = dyadic(n, features, scale=4) + torch.tensor([3.0, -2.0, 0.0])
        y = bn(x)
        steps.append({
            "x": listify(x),
            "y_training": listify(y),
            "running_mean": listify(bn.running_mean),
            "running_var": listify(bn.running_var),
            "num_batches_tracked": int(bn.num_batches_tracked),
        })
    bn.eval()
    x_eval = dyadic(3, features, scale=4)
    return {
        "description": "BatchNorm1d(3, eps=1e-5, momentum=None) in training mode over batches of "
                       "4, 7, 2 and 5 rows, then one inference batch",
        "epsilon": eps,
        "gamma": listify(bn.weight),
        "beta": listify(bn.bias),
        "steps": steps,
        "eval_x": listify(x_eval),
        "eval_y": listify(bn(x_eval)),
    }


def pytorch_preset_training():
    inputs, hidden, rows, batch_size, epochs, lr = 4, 8, 20, 8, 2, 0.01
    x = dyadic(rows, inputs, scale=4)
    y = dyadic(rows, 1, scale=4)
    x_eval = dyadic(5, inputs, scale=4)
    l1 = torch.nn.Linear(inputs, hidden, bias=False)
    bn = torch.nn.BatchNorm1d(hidden, eps=1e-5, momentum=0.01)
    l2 = torch.nn.Linear(hidden, 1)
    with torch.no_grad():
        l1.weight.copy_(dyadic(hidden, inputs, scale=16, low=-8, high=9))
        l2.weight.copy_(dyadic(1, hidden, scale=16, low=-8, high=9))
        l2.bias.copy_(torch.tensor([0.125]))
        bn.weight.copy_(1.0 + dyadic(1, hidden, scale=16, low=-4, high=5)[0])
        bn.bias.copy_(dyadic(1, hidden, scale=16, low=-4, high=5)[0])
    model = torch.nn.Sequential(l1, bn, torch.nn.ReLU(), l2)
    initial = [
        {"kernel": listify(l1.weight.t())},
        {"gamma": listify(bn.weight), "beta": listify(bn.bias),
         "moving_mean": listify(bn.running_mean), "moving_variance": listify(bn.running_var)},
        {},
        {"kernel": listify(l2.weight.t()), "bias": listify(l2.bias)},
    ]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    schedule, losses = [], []
    model.train()
    for _ in range(epochs):
        for start in range(0, rows, batch_size):
            end = min(start + batch_size, rows)
            schedule.append([start, end])
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x[start:end]), y[start:end])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    return {
        "description": "Linear(4, 8, bias=False) -> BatchNorm1d(8, eps=1e-5, momentum=0.01) -> "
                       "ReLU -> Linear(8, 1), MSE, Adam(lr=0.01, eps=1e-8), batches of 8 rows "
                       "in order, 2 epochs; kernels in Keras' layout (Linear.weight transposed)",
        "learning_rate": lr,
        "batch_schedule": schedule,
        "x": listify(x), "y": listify(y), "eval_x": listify(x_eval),
        "initial_weights": initial,
        "per_step_loss": losses,
        "final_weights": [
            {"kernel": listify(l1.weight.t())},
            {"gamma": listify(bn.weight), "beta": listify(bn.bias),
             "moving_mean": listify(bn.running_mean), "moving_variance": listify(bn.running_var)},
            {},
            {"kernel": listify(l2.weight.t()), "bias": listify(l2.bias)},
        ],
        "predictions": listify(model(x_eval)),
    }


def moving_average(variable, value, momentum):
    """tf.keras' _assign_moving_average: variable - (variable - value) * (1 - momentum)."""
    return variable - (variable - value) * (1.0 - momentum)


def renorm_reference():
    eps, momentum, renorm_momentum = 1e-3, 0.9, 0.75
    rmin, rmax, dmax = 0.5, 2.0, 0.5
    gamma = torch.tensor([1.25, -0.75, 2.0])
    beta = torch.tensor([0.5, 0.0, -1.0])
    state = {"moving_mean": torch.tensor([0.0, 0.5, -3.0]),
             "moving_variance": torch.tensor([0.25, 1.0, 16.0])}
    state["moving_stddev"] = state["moving_variance"].sqrt()
    state["renorm_mean"] = state["moving_mean"].clone()
    state["renorm_stddev"] = state["moving_stddev"].clone()
    initial = {k: listify(v) for k, v in state.items()}
    steps = []
    for _ in range(3):
        x = (dyadic(6, 3, scale=8) * torch.tensor([1.0, 0.5, 0.125])).requires_grad_(True)
        u = dyadic(6, 3, scale=8)
        g = gamma.clone().requires_grad_(True)
        b = beta.clone().requires_grad_(True)
        mean = x.mean(0)
        var = ((x - mean) ** 2).mean(0)
        stddev = (var + eps).sqrt()
        sigma = torch.clamp(state["renorm_stddev"], min=eps ** 0.5)
        r = torch.clamp((stddev / sigma).detach(), rmin, rmax)
        d = torch.clamp(((mean - state["renorm_mean"]) / sigma).detach(), -dmax, dmax)
        y = (x - mean) / stddev * (g * r) + (d * g + b)
        (y * u).sum().backward()
        with torch.no_grad():
            state["renorm_mean"] = moving_average(state["renorm_mean"], mean, renorm_momentum)
            state["renorm_stddev"] = moving_average(state["renorm_stddev"], stddev,
                                                    renorm_momentum)
            state["moving_mean"] = moving_average(state["moving_mean"], mean, momentum)
            state["moving_stddev"] = moving_average(state["moving_stddev"], stddev, momentum)
            state["moving_variance"] = torch.relu(state["moving_stddev"] ** 2 - eps)
        steps.append({"x": listify(x), "upstream_grad": listify(u), "y": listify(y),
                      "dx": listify(x.grad), "dgamma": listify(g.grad), "dbeta": listify(b.grad),
                      "r": listify(r), "d": listify(d),
                      "state_after": {k: listify(v) for k, v in state.items()}})
    return {
        "description": "tf.keras 2.x batch renormalization, rmin 0.5 rmax 2 dmax 0.5, "
                       "momentum 0.9, renorm_momentum 0.75, epsilon 1e-3, three 6x3 batches; "
                       "gradients of sum(upstream_grad * y) with r and d held constant",
        "epsilon": eps, "momentum": momentum, "renorm_momentum": renorm_momentum,
        "renorm_clipping": {"rmax": rmax, "dmax": dmax},
        "gamma": listify(gamma), "beta": listify(beta),
        "initial_state": initial, "steps": steps,
    }


def ghost_batch_reference():
    eps, momentum, k, n, features = 1e-3, 0.9, 4, 12, 3
    x = dyadic(n, features, scale=8).requires_grad_(True)
    u = dyadic(n, features, scale=8)
    gamma = torch.tensor([1.5, -0.5, 1.0], requires_grad=True)
    beta = torch.tensor([0.25, 0.0, -0.75], requires_grad=True)
    # tf.keras: reshape to [virtual_batch_size, -1, D], moments over axis 0.
    v = x.reshape(k, n // k, features)
    mean = v.mean(0, keepdim=True)
    var = ((v - mean) ** 2).mean(0, keepdim=True)
    y = ((v - mean) / (var + eps).sqrt() * gamma + beta).reshape(n, features)
    (y * u).sum().backward()
    new_mean, new_var = mean.mean(1).reshape(-1), var.mean(1).reshape(-1)
    return {
        "description": "tf.keras 2.x virtual_batch_size 4 on a 12x3 batch (3 ghost batches: "
                       "rows g, g+3, g+6, g+9), momentum 0.9, epsilon 1e-3, initial moving "
                       "statistics 0 and 1",
        "epsilon": eps, "momentum": momentum, "virtual_batch_size": k,
        "x": listify(x), "upstream_grad": listify(u),
        "gamma": listify(gamma), "beta": listify(beta),
        "y": listify(y), "dx": listify(x.grad), "dgamma": listify(gamma.grad),
        "dbeta": listify(beta.grad),
        "moving_mean": listify(moving_average(torch.zeros(features), new_mean, momentum)),
        "moving_variance": listify(moving_average(torch.ones(features), new_var, momentum)),
    }


def weighted_moments_reference():
    eps, momentum, n, features = 1e-3, 0.9, 7, 3
    x = dyadic(n, features, scale=8).requires_grad_(True)
    u = dyadic(n, features, scale=8)
    w = torch.tensor([1.0, 10.0, 1.0, 0.5, 1.0, 10.0, 2.0])
    gamma = torch.tensor([1.5, -0.5, 1.0], requires_grad=True)
    beta = torch.tensor([0.25, 0.0, -0.75], requires_grad=True)
    wc = w.reshape(n, 1)
    mean = (wc * x).sum(0) / w.sum()
    var = (wc * (x - mean) ** 2).sum(0) / w.sum()
    y = (x - mean) / (var + eps).sqrt() * gamma + beta
    (y * u).sum().backward()
    return {
        "description": "tf.nn.weighted_moments statistics with per-row weights, 7x3 batch, "
                       "momentum 0.9, epsilon 1e-3, initial moving statistics 0 and 1",
        "epsilon": eps, "momentum": momentum,
        "x": listify(x), "sample_weight": listify(w), "upstream_grad": listify(u),
        "gamma": listify(gamma), "beta": listify(beta),
        "batch_mean": listify(mean), "batch_variance": listify(var),
        "y": listify(y), "dx": listify(x.grad), "dgamma": listify(gamma.grad),
        "dbeta": listify(beta.grad),
        "moving_mean": listify(moving_average(torch.zeros(features), mean, momentum)),
        "moving_variance": listify(moving_average(torch.ones(features), var, momentum)),
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    # The generator's stream is shared: keep the order of the cases.
    write(out_dir, "cumulative_average.json", cumulative_average())
    write(out_dir, "pytorch_preset_training.json", pytorch_preset_training())
    write(out_dir, "renorm_reference.json", renorm_reference())
    write(out_dir, "ghost_batch_reference.json", ghost_batch_reference())
    write(out_dir, "weighted_moments_reference.json", weighted_moments_reference())


if __name__ == "__main__":
    main()
