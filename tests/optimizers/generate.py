#!/usr/bin/python3
"""Golden optimizer trajectories and learning-rate schedules for tests/test_optimizers.cpp, in float64 with PyTorch.

Two variables ("kernel" 2x3 and "gamma" 1x3) start at fixed dyadic values and receive a fixed
sequence of dyadic gradients (the same for every case, independent of the weights), so each
case isolates one optimizer's update. For every case the weights after each step are written.

Two independent sources:
  * "keras" cases: the Keras 3 formulas transcribed from keras-team/keras into torch float64 —
    keras/src/optimizers/base_optimizer.py (apply: clipping, then weight decay, then the update;
    _clip_by_norm, clip_by_global_norm, _apply_weight_decay), and adam.py, adamw.py, sgd.py,
    rmsprop.py, nadam.py, adagrad.py, adadelta.py, adamax.py, lion.py for update_step.
  * "torch" cases: torch.optim's own optimizers (PyTorch 1.13) for the PyTorch forms that
    normlab offers as options (epsilon_placement "pytorch", Nadam momentum_decay 0.004), and for
    the Keras forms that torch computes identically (Adadelta; Adam/AdamW/AMSGrad with epsilon
    rescaled by 1/sqrt(1 - beta_2^t) each step, an exact identity).
Where both apply to one case, the generator asserts they agree to 1e-12.

Schedules: the learning rate at steps 0..SCHEDULE_STEPS-1 of each Keras schedule, transcribed
from keras/src/optimizers/schedules/learning_rate_schedule.py in Python floats, cross-checked
against torch.optim.lr_scheduler where torch has the same curve (ExponentialLR,
CosineAnnealingLR, PolynomialLR, MultiStepLR).

Run: /usr/bin/python3 tests/optimizers/generate.py > tests/optimizers/trajectories.json
"""
import json
import math
import sys

import torch

torch.set_default_dtype(torch.float64)
STEPS = 6


def dyadic(seed, shape, scale):
    g = torch.Generator().manual_seed(seed)
    return torch.round(torch.randn(shape, generator=g) * scale * 64) / 64


W0 = {"kernel": dyadic(1, (2, 3), 0.5), "gamma": 1 + dyadic(2, (1, 3), 0.25)}
GRADS = [{"kernel": dyadic(10 + s, (2, 3), 1.0), "gamma": dyadic(30 + s, (1, 3), 0.5)}
         for s in range(STEPS)]
NAMES = ["kernel", "gamma"]


# ---- Keras 3 transcriptions ------------------------------------------------------------------

def clip(grads, o):
    """base_optimizer._clip_gradients: clipnorm, else global_clipnorm, else clipvalue."""
    if o.get("clipnorm"):
        c = o["clipnorm"]
        return {k: g * c / torch.maximum(g.norm(), torch.tensor(c)) for k, g in grads.items()}
    if o.get("global_clipnorm"):
        c = o["global_clipnorm"]
        n = torch.sqrt(sum((g * g).sum() for g in grads.values()))
        scale = c * torch.minimum(1.0 / n, torch.tensor(1.0 / c))
        return {k: g * scale for k, g in grads.items()}
    if o.get("clipvalue"):
        c = o["clipvalue"]
        return {k: g.clamp(-c, c) for k, g in grads.items()}
    return grads


SCHEDULE_STEPS = 40


def schedule(spec, step):
    """The Keras schedules' __call__, in Python floats."""
    c, s = spec["config"], float(step)
    name = spec["class_name"]
    if name in ("ExponentialDecay", "InverseTimeDecay"):
        p = s / c["decay_steps"]
        if c.get("staircase"):
            p = math.floor(p)
        if name == "ExponentialDecay":
            return c["initial_learning_rate"] * c["decay_rate"] ** p
        return c["initial_learning_rate"] / (1 + c["decay_rate"] * p)
    if name == "PiecewiseConstantDecay":
        b, v = c["boundaries"], c["values"]
        if s <= b[0]:
            return v[0]
        if s > b[-1]:
            return v[-1]
        for lo, hi, val in zip(b[:-1], b[1:], v[1:-1]):
            if lo < s <= hi:
                return val
    if name == "PolynomialDecay":
        d, end, power = c["decay_steps"], c.get("end_learning_rate", 1e-4), c.get("power", 1.0)
        if c.get("cycle"):
            d = d * (1.0 if s == 0 else math.ceil(s / d))
        else:
            s = min(s, d)
        return (c["initial_learning_rate"] - end) * (1 - s / d) ** power + end
    if name == "CosineDecay":
        d, alpha = c["decay_steps"], c.get("alpha", 0.0)
        target, w = c.get("warmup_target"), c.get("warmup_steps", 0)

        def decayed(s, lr):
            return lr * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / d)) + alpha)
        if target is None:
            return decayed(min(s, d), c["initial_learning_rate"])
        s = min(s, d + w)
        if s < w:
            return (target - c["initial_learning_rate"]) * (s / w) + c["initial_learning_rate"]
        return decayed(s - w, target)
    if name == "CosineDecayRestarts":
        f = s / c["first_decay_steps"]
        t_mul, m_mul, alpha = c.get("t_mul", 2.0), c.get("m_mul", 1.0), c.get("alpha", 0.0)
        if t_mul == 1.0:
            i = math.floor(f)
            f -= i
        else:
            i = math.floor(math.log(1 - f * (1 - t_mul)) / math.log(t_mul))
            f = (f - (1 - t_mul ** i) / (1 - t_mul)) / t_mul ** i
        return c["initial_learning_rate"] * (
            (1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(math.pi * f)) + alpha)
    raise ValueError(name)


def torch_schedule(make):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = make(opt)
    out = []
    for _ in range(SCHEDULE_STEPS):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def lr_of(cfg, iterations):
    lr = cfg.get("learning_rate")
    if isinstance(lr, dict):
        return schedule(lr, iterations)
    return lr


class Keras:
    def __init__(self, name, cfg):
        self.name, self.c = name, cfg
        self.state = {k: {} for k in NAMES}
        self.iterations = 0
        self.u_product = 1.0

    def apply(self, w, grads):
        c = self.c
        grads = clip(grads, c)
        wd = c.get("weight_decay", 0.004 if self.name == "adamw" else None)
        lr = lr_of(c, self.iterations) if "learning_rate" in c else (
            0.01 if self.name == "sgd" else 0.001)
        if wd is not None:
            import re
            for k in NAMES:
                if not any(re.search(p, k) for p in c.get("exclude_from_weight_decay", [])):
                    w[k] = w[k] - w[k] * wd * lr
        self.lr = lr
        if self.name == "nadam":
            b1 = c.get("beta_1", 0.9)
            self.u_product *= b1 * (1 - 0.5 * 0.96 ** (self.iterations + 1))
        for k in NAMES:
            w[k] = self.update(k, w[k], grads[k], self.lr)
        if c.get("use_ema"):  # base_optimizer._update_model_variables_moving_average
            mom = 0.0 if self.iterations == 0 else c.get("ema_momentum", 0.99)
            for k in NAMES:
                avg = self.state[k].get("ema", torch.zeros_like(w[k]))
                self.state[k]["ema"] = mom * avg + (1 - mom) * w[k]
            f = c.get("ema_overwrite_frequency")
            if f and (self.iterations + 1) % f == 0:
                for k in NAMES:
                    w[k] = self.state[k]["ema"].clone()
        self.iterations += 1
        return grads

    def slot(self, k, name, init=0.0):
        s = self.state[k]
        if name not in s:
            s[name] = torch.full_like(W0[k], init)
        return s[name]

    def update(self, k, w, g, lr):
        c, t = self.c, self.iterations + 1
        b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.999)
        eps = c.get("epsilon", 1e-7)
        S = self.state[k]
        if self.name in ("adam", "adamw"):
            m, v = self.slot(k, "m"), self.slot(k, "v")
            m = m + (g - m) * (1 - b1)
            v = v + (g * g - v) * (1 - b2)
            S["m"], S["v"] = m, v
            if c.get("amsgrad"):
                vh = torch.maximum(self.slot(k, "vh"), v)
                S["vh"] = vh
                v = vh
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            return w - m * alpha / (v.sqrt() + eps)
        if self.name == "sgd":
            mu = c.get("momentum", 0.0)
            if mu == 0:
                return w - lr * g
            m = mu * self.slot(k, "m") - lr * g
            S["m"] = m
            return w + (mu * m - lr * g if c.get("nesterov") else m)
        if self.name == "rmsprop":
            rho, mom = c.get("rho", 0.9), c.get("momentum", 0.0)
            v = rho * self.slot(k, "v") + (1 - rho) * g * g
            S["v"] = v
            if c.get("centered"):
                a = rho * self.slot(k, "a") + (1 - rho) * g
                S["a"] = a
                denom = v - a * a + eps
            else:
                denom = v + eps
            inc = lr * g / denom.sqrt()
            if mom > 0:
                S["mom"] = mom * self.slot(k, "mom") + inc
                return w - S["mom"]
            return w - inc
        if self.name == "nadam":
            u_t = b1 * (1 - 0.5 * 0.96 ** t)
            u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            up, up1 = self.u_product, self.u_product * u_t1
            m = self.slot(k, "m") + (g - self.slot(k, "m")) * (1 - b1)
            v = self.slot(k, "v") + (g * g - self.slot(k, "v")) * (1 - b2)
            S["m"], S["v"] = m, v
            m_hat = u_t1 * m / (1 - up1) + (1 - u_t) * g / (1 - up)
            v_hat = v / (1 - b2 ** t)
            return w - m_hat * lr / (v_hat.sqrt() + eps)
        if self.name == "adagrad":
            acc = self.slot(k, "acc", c.get("initial_accumulator_value", 0.1)) + g * g
            S["acc"] = acc
            return w - lr * g / (acc + eps).sqrt()
        if self.name == "adadelta":
            rho = c.get("rho", 0.95)
            ag = rho * self.slot(k, "ag") + (1 - rho) * g * g
            ad = self.slot(k, "ad")
            dv = -((ad + eps).sqrt() * g) / (ag + eps).sqrt()
            S["ag"], S["ad"] = ag, rho * ad + (1 - rho) * dv * dv
            return w + lr * dv
        if self.name == "adamax":
            m = self.slot(k, "m") + (g - self.slot(k, "m")) * (1 - b1)
            u = torch.maximum(b2 * self.slot(k, "u"), g.abs())
            S["m"], S["u"] = m, u
            return w - lr * m / ((1 - b1 ** t) * (u + eps))
        if self.name == "lion":
            b2 = c.get("beta_2", 0.99)
            m = self.slot(k, "m")
            w = w - lr * torch.sign(m * b1 + g * (1 - b1))
            S["m"] = m * b2 + g * (1 - b2)
            return w
        raise ValueError(self.name)


def run_keras(name, cfg):
    opt = Keras(name, cfg)
    w = {k: v.clone() for k, v in W0.items()}
    out, applied = [], None
    for s in range(STEPS):
        grads = opt.apply(w, {k: v.clone() for k, v in GRADS[s].items()})
        if s == 0:
            applied = grads
        out.append({k: w[k].tolist() for k in NAMES})
    finalized = None
    if cfg.get("use_ema"):  # finalize_variable_values: the averages replace the weights
        finalized = {k: opt.state[k]["ema"].tolist() for k in NAMES}
    return out, {k: applied[k].tolist() for k in NAMES}, finalized


# ---- torch.optim -------------------------------------------------------------------------------

def run_torch(make, eps_schedule=None):
    params = {k: W0[k].clone().requires_grad_(True) for k in NAMES}
    opt = make([params[k] for k in NAMES])
    out = []
    for s in range(STEPS):
        for k in NAMES:
            params[k].grad = GRADS[s][k].clone()
        if eps_schedule:
            for group in opt.param_groups:
                group["eps"] = eps_schedule(s + 1)
        opt.step()
        out.append({k: params[k].detach().tolist() for k in NAMES})
    return out


def adam_eps(eps, b2):
    # Keras' epsilon before the bias correction = torch's after it, rescaled each step
    return lambda t: eps / math.sqrt(1 - b2 ** t)


def close(a, b):
    fa = torch.tensor([x for step in a for k in NAMES for row in step[k] for x in row])
    fb = torch.tensor([x for step in b for k in NAMES for row in step[k] for x in row])
    return float((fa - fb).abs().max())


cases = []


def keras_case(case_id, name, cfg, cls, torch_check=None):
    steps, applied, finalized = run_keras(name.lower(), cfg)
    case = {"id": case_id, "optimizer": {"class_name": cls, "config": cfg},
            "produced_by": "Keras 3 formulas in torch float64", "steps": steps}
    if finalized:
        case["finalized"] = finalized
    if any(cfg.get(k) for k in ("clipnorm", "global_clipnorm", "clipvalue")):
        case["first_step_applied_grads"] = applied
    if torch_check:
        diff = close(steps, run_torch(*torch_check))
        assert diff < 1e-12, (case_id, diff)
        case["cross_check"] = "torch.optim agrees to %.1e" % diff
    cases.append(case)


def torch_case(case_id, cls, cfg, make, eps_schedule=None):
    cases.append({"id": case_id, "optimizer": {"class_name": cls, "config": cfg},
                  "produced_by": "torch.optim (PyTorch %s) float64" % torch.__version__,
                  "steps": run_torch(make, eps_schedule)})


O = torch.optim
keras_case("adam_amsgrad", "adam", {"learning_rate": 0.01, "amsgrad": True}, "Adam",
           (lambda p: O.Adam(p, lr=0.01, amsgrad=True), adam_eps(1e-7, 0.999)))
keras_case("adamw_default", "adamw", {"learning_rate": 0.01}, "AdamW",
           (lambda p: O.AdamW(p, lr=0.01, weight_decay=0.004), adam_eps(1e-7, 0.999)))
keras_case("adamw_exclude_gamma", "adamw",
           {"learning_rate": 0.01, "weight_decay": 0.5, "exclude_from_weight_decay": ["gam"]},
           "AdamW")
keras_case("sgd_weight_decay_momentum", "sgd",
           {"learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.1}, "SGD")
keras_case("sgd_nesterov_clipnorm", "sgd",
           {"learning_rate": 0.05, "momentum": 0.5, "nesterov": True, "clipnorm": 1.0}, "SGD")
keras_case("adam_global_clipnorm", "adam", {"learning_rate": 0.01, "global_clipnorm": 1.5},
           "Adam")
keras_case("rmsprop_clipvalue", "rmsprop", {"learning_rate": 0.01, "clipvalue": 0.75},
           "RMSprop")
keras_case("rmsprop_default", "rmsprop", {}, "RMSprop")
keras_case("rmsprop_centered_momentum", "rmsprop",
           {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.9, "centered": True}, "RMSprop")
keras_case("nadam_default", "nadam", {"learning_rate": 0.002}, "Nadam",
           (lambda p: O.NAdam(p, lr=0.002, eps=1e-7, momentum_decay=1.0, foreach=True),))
keras_case("adagrad_default", "adagrad", {"learning_rate": 0.01}, "Adagrad")
keras_case("adadelta_lr1", "adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6},
           "Adadelta", (lambda p: O.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6),))
keras_case("adamax_default", "adamax", {"learning_rate": 0.01}, "Adamax")
keras_case("lion_weight_decay", "lion", {"learning_rate": 0.001, "weight_decay": 0.1}, "Lion")

keras_case("sgd_exponential_decay_weight_decay", "sgd",
           {"learning_rate": {"module": "keras.optimizers.schedules",
                              "class_name": "ExponentialDecay",
                              "config": {"initial_learning_rate": 0.1, "decay_steps": 2,
                                         "decay_rate": 0.5}},
            "momentum": 0.9, "weight_decay": 0.25}, "SGD")
keras_case("adam_ema", "adam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.5},
           "Adam")
keras_case("sgd_ema_overwrite_every_4", "sgd",
           {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True, "ema_momentum": 0.75,
            "ema_overwrite_frequency": 4}, "SGD")
keras_case("adamw_cosine_warmup", "adamw",
           {"learning_rate": {"class_name": "CosineDecay",
                              "config": {"initial_learning_rate": 0.0, "decay_steps": 4,
                                         "warmup_target": 0.01, "warmup_steps": 2}}}, "AdamW")

torch_case("rmsprop_pytorch", "RMSprop",
           {"learning_rate": 0.01, "rho": 0.99, "epsilon": 1e-3, "centered": True,
            "momentum": 0.5, "epsilon_placement": "pytorch"},
           lambda p: O.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-3, centered=True, momentum=0.5))
torch_case("adagrad_pytorch", "Adagrad",
           {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 1e-3,
            "epsilon_placement": "pytorch"},
           lambda p: O.Adagrad(p, lr=0.1, initial_accumulator_value=0.0, eps=1e-3))
torch_case("adamax_pytorch", "Adamax",
           {"learning_rate": 0.01, "beta_2": 0.5, "epsilon": 0.1, "epsilon_placement": "pytorch"},
           lambda p: O.Adamax(p, lr=0.01, betas=(0.9, 0.5), eps=0.1))
torch_case("nadam_pytorch", "Nadam",
           {"learning_rate": 0.002, "epsilon": 1e-8, "momentum_decay": 0.004},
           lambda p: O.NAdam(p, lr=0.002, eps=1e-8, momentum_decay=0.004, foreach=True))

schedules = []


def schedule_case(case_id, spec, torch_make=None):
    lrs = [schedule(spec, s) for s in range(SCHEDULE_STEPS)]
    case = {"id": case_id, "schedule": spec, "learning_rates": lrs}
    if torch_make:
        scale = spec["config"].get("initial_learning_rate", 1.0)
        other = [scale * x for x in torch_schedule(torch_make)]
        diff = max(abs(a - b) for a, b in zip(lrs, other))
        assert diff < 1e-12, (case_id, diff)
        case["cross_check"] = "torch.optim.lr_scheduler agrees to %.1e" % diff
    schedules.append(case)


S = torch.optim.lr_scheduler
schedule_case("exponential", {"class_name": "ExponentialDecay", "config": {
    "initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.9}},
    lambda o: S.ExponentialLR(o, gamma=0.9))
schedule_case("exponential_staircase", {"class_name": "ExponentialDecay", "config": {
    "initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5, "staircase": True}})
schedule_case("inverse_time", {"class_name": "InverseTimeDecay", "config": {
    "initial_learning_rate": 0.5, "decay_steps": 3, "decay_rate": 0.25}})
schedule_case("inverse_time_staircase", {"class_name": "InverseTimeDecay", "config": {
    "initial_learning_rate": 0.5, "decay_steps": 3, "decay_rate": 0.25, "staircase": True}})
schedule_case("piecewise", {"class_name": "PiecewiseConstantDecay", "config": {
    "boundaries": [10, 25], "values": [1.0, 0.5, 0.25]}},
    lambda o: S.MultiStepLR(o, milestones=[11, 26], gamma=0.5))
schedule_case("polynomial", {"class_name": "PolynomialDecay", "config": {
    "initial_learning_rate": 0.1, "decay_steps": 30, "end_learning_rate": 0.0, "power": 2.0}},
    lambda o: S.PolynomialLR(o, total_iters=30, power=2.0))
schedule_case("polynomial_cycle", {"class_name": "PolynomialDecay", "config": {
    "initial_learning_rate": 0.1, "decay_steps": 12, "end_learning_rate": 0.01, "power": 0.5,
    "cycle": True}})
schedule_case("cosine", {"class_name": "CosineDecay", "config": {
    "initial_learning_rate": 0.1, "decay_steps": 39, "alpha": 0.0}},
    lambda o: S.CosineAnnealingLR(o, T_max=39))
schedule_case("cosine_alpha_warmup", {"class_name": "CosineDecay", "config": {
    "initial_learning_rate": 0.001, "decay_steps": 20, "alpha": 0.1, "warmup_target": 0.1,
    "warmup_steps": 8}})
schedule_case("cosine_restarts", {"class_name": "CosineDecayRestarts", "config": {
    "initial_learning_rate": 0.1, "first_decay_steps": 5, "t_mul": 2.0, "m_mul": 0.5,
    "alpha": 0.05}})
schedule_case("cosine_restarts_fixed_period", {"class_name": "CosineDecayRestarts", "config": {
    "initial_learning_rate": 0.1, "first_decay_steps": 6, "t_mul": 1.0, "m_mul": 1.0}},
    lambda o: S.CosineAnnealingWarmRestarts(o, T_0=6))
schedule_case("cosine_restarts_fixed_period_m_mul", {"class_name": "CosineDecayRestarts",
    "config": {"initial_learning_rate": 0.1, "first_decay_steps": 6, "t_mul": 1.0,
               "m_mul": 0.75}})

json.dump({"generated_by": "tests/optimizers/generate.py", "steps": STEPS,
           "schedules": schedules,
           "initial_weights": {k: W0[k].tolist() for k in NAMES},
           "gradients": [{k: g[k].tolist() for k in NAMES} for g in GRADS],
           "cases": cases}, sys.stdout, indent=1)
sys.stdout.write("\n")
