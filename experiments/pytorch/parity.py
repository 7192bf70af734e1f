#!/usr/bin/python3
"""PyTorch reference numbers for the sinapsis parity test.

Usage (from the repository root):
    /usr/bin/python3 experiments/pytorch/parity.py > tests/pytorch_parity_data.hpp

Prints a C++ header: one nested namespace per case inside `sinapsis::parity`
with batch, layer widths, hyper-parameters, inputs, labels/targets, initial
parameters, the loss before each of 5 SGD steps, and the parameters after them.

Conventions (the C++ side must match them):
  * All tensors are torch.float32. No RNG: inputs, weights and biases come from
    closed-form formulas evaluated in double and rounded to float32. The rounded
    values are printed, so the C++ side needs only the literals, not the formulas.
    W_l[i][j] = 0.5*sin(1.7*(i+1) + 0.9*(j+1) + 1.3*(l+p)),  b_l[j] = 0.1*cos(0.7*(j+1) + l + p)
    x[n][d]   = 2*sin(0.37*(n+1)*(d+2))
    with p a per-case phase (0 for A and B; 7 for C, because with p=0 two of the
    three ReLU hidden units of C are negative on every sample, i.e. never train).
  * sinapsis dense layer: Y = X W + b, X [batch, fan_in] row-major,
    W [fan_in, fan_out] row-major, b [fan_out]. nn.Linear keeps weight as
    [out, in], so the header holds linear.weight.T flattened row-major.
  * One step: forward on the full batch, loss (no weight-decay penalty term),
    backward, optimizer.step(). losses[s] is the loss before update s.
  * torch.optim.SGD, dampening=0, two param groups (weights: weight_decay=wd,
    biases: 0):  g = grad + wd*w;  buf = g on the first step, else
    buf = momentum*buf + g;  d = g + momentum*buf if nesterov else buf;  w -= lr*d.
  * Losses use reduction='mean': CrossEntropyLoss and BCEWithLogitsLoss average
    over the batch, MSELoss over the batch*outputs elements.
"""
import math
import sys

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
STEPS = 5
COMMAND = "/usr/bin/python3 experiments/pytorch/parity.py > tests/pytorch_parity_data.hpp"


def init_weight(l, fan_in, fan_out, p):  # sinapsis layout [fan_in, fan_out]
    return np.array([[0.5 * math.sin(1.7 * (i + 1) + 0.9 * (j + 1) + 1.3 * (l + p))
                      for j in range(fan_out)] for i in range(fan_in)], dtype=np.float32)


def init_bias(l, fan_out, p):
    return np.array([0.1 * math.cos(0.7 * (j + 1) + l + p) for j in range(fan_out)], dtype=np.float32)


def formula_inputs(batch, dim):
    return np.array([[2.0 * math.sin(0.37 * (n + 1) * (d + 2)) for d in range(dim)]
                     for n in range(batch)], dtype=np.float32)


# hidden: activation after each hidden layer; out: activation applied to the last
# layer before the loss (None = the loss takes raw logits).
CASES = [
    dict(name="softmax_ce", widths=[3, 4, 3, 2], hidden=[torch.tanh, torch.relu], out=None, phase=0,
         desc="3 -tanh-> 4 -relu-> 3 -> 2 logits; softmax + categorical CE (nn.CrossEntropyLoss, mean)",
         loss=nn.CrossEntropyLoss(reduction="mean"), inputs=formula_inputs(5, 3),
         labels=[0, 1, 1, 0, 1], lr=0.1, momentum=0.9, nesterov=False, wd=0.01),
    dict(name="sigmoid_bce_nesterov", widths=[2, 3, 1], hidden=[torch.sigmoid], out=None, phase=0,
         desc="2 -sigmoid-> 3 -> 1 logit; sigmoid + binary CE (nn.BCEWithLogitsLoss, mean); XOR",
         loss=nn.BCEWithLogitsLoss(reduction="mean"),
         inputs=np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32),
         labels=[0, 1, 1, 0], lr=0.5, momentum=0.9, nesterov=True, wd=0.001),
    dict(name="tanh_mse", widths=[2, 3, 2], hidden=[torch.relu], out=torch.tanh, phase=7,
         desc="2 -relu-> 3 -tanh-> 2; nn.MSELoss (mean over batch*outputs elements)",
         loss=nn.MSELoss(reduction="mean"), inputs=formula_inputs(3, 2),
         targets=np.array([[0.8 * math.cos(1.1 * (n + 1) + 0.5 * (k + 1)) for k in range(2)]
                           for n in range(3)], dtype=np.float32),
         lr=0.05, momentum=0.5, nesterov=False, wd=0.0),
]


def lit(x):
    """float32 -> C++ float literal that round-trips ('%.9g' + 'f')."""
    s = "%.9g" % float(np.float32(x))
    return s + ("" if any(c in s for c in ".en") else ".0") + "f"  # "1" -> "1.0f"


def arr(name, ctype, values, fmt=str):
    values = list(values)
    return f"constexpr std::array<{ctype}, {len(values)}> {name} = {{{', '.join(fmt(v) for v in values)}}};"


def farr(name, values):
    return arr(name, "float", np.asarray(values, dtype=np.float32).reshape(-1), lit)


def build_case(c):
    """Case c's layers (initialized by the formulas), their initial parameters, inputs and labels/targets."""
    widths, p = c["widths"], c["phase"]
    layers = [nn.Linear(widths[l], widths[l + 1]) for l in range(len(widths) - 1)]
    init = []
    with torch.no_grad():
        for l, lin in enumerate(layers):
            w, b = init_weight(l, widths[l], widths[l + 1], p), init_bias(l, widths[l + 1], p)
            lin.weight.copy_(torch.from_numpy(w.T.copy()))  # torch keeps [out, in]
            lin.bias.copy_(torch.from_numpy(b))
            init.append((w, b))
    x = torch.from_numpy(c["inputs"])
    if isinstance(c["loss"], nn.CrossEntropyLoss):
        y = torch.tensor(c["labels"], dtype=torch.long)
    elif isinstance(c["loss"], nn.BCEWithLogitsLoss):
        y = torch.tensor(c["labels"], dtype=torch.float32).reshape(-1, 1)
    else:
        y = torch.from_numpy(c["targets"])
    return layers, init, x, y


def case_loss(c, layers, x, y):
    """Forward through case c's layers and its loss (no penalty term)."""
    h = x
    for l, lin in enumerate(layers):
        h = lin(h)
        act = c["hidden"][l] if l < len(layers) - 1 else c["out"]
        h = act(h) if act is not None else h
    return c["loss"](h, y)


def run_case(c):
    layers, init, x, y = build_case(c)
    opt = torch.optim.SGD([dict(params=[m.weight for m in layers], weight_decay=c["wd"]),
                           dict(params=[m.bias for m in layers], weight_decay=0.0)],
                          lr=c["lr"], momentum=c["momentum"], dampening=0.0, nesterov=c["nesterov"])
    losses = []
    for _ in range(STEPS):
        loss = case_loss(c, layers, x, y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return init, losses, [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in layers]


def emit_case(c):
    init, losses, final = run_case(c)
    out = [f"// Case {c['name']}: {c['desc']}.",
           f"// SGD lr={c['lr']} momentum={c['momentum']} nesterov={str(c['nesterov']).lower()} "
           f"dampening=0 weight_decay={c['wd']} (weights only).",
           f"namespace {c['name']} {{",
           f"constexpr std::size_t batch = {len(c['inputs'])};",
           arr("widths", "std::size_t", c["widths"]),
           f"constexpr float learning_rate = {lit(c['lr'])};",
           f"constexpr float momentum = {lit(c['momentum'])};",
           f"constexpr float weight_decay = {lit(c['wd'])};",
           f"constexpr bool nesterov = {str(c['nesterov']).lower()};",
           farr("inputs", c["inputs"]),
           arr("labels", "int", c["labels"]) if "labels" in c else farr("targets", c["targets"])]
    for tag, params in (("initial", init), ("final", final)):
        for l, (w, b) in enumerate(params):
            out += [farr(f"{tag}_weight_{l}", w), farr(f"{tag}_bias_{l}", b)]
    out += ["// losses[s] = loss before update s (without the weight-decay penalty).",
            farr("losses", losses), f"}}  // namespace {c['name']}", ""]
    return "\n".join(out)


# ---- Adam, AdamW, RMSprop (issue 15) -----------------------------------------
# The same three nets, 20 steps of each optimizer with and without weight
# decay (weights only: a param group of weights with it, one of biases without).
OPT_STEPS = 20
OPT_COMMAND = "/usr/bin/python3 experiments/pytorch/parity.py --optimizers > tests/pytorch_optimizer_data.hpp"
OPTIMIZERS = [
    # kind, lr, betas, eps, alpha, momentum with weight decay (rmsprop)
    dict(kind="adam", lr=0.01, betas=(0.9, 0.999), eps=1e-8, alpha=0.99, momentum=0.0),
    dict(kind="adamw", lr=0.02, betas=(0.85, 0.99), eps=1e-6, alpha=0.99, momentum=0.0),
    dict(kind="rmsprop", lr=0.005, betas=(0.9, 0.999), eps=1e-7, alpha=0.95, momentum=0.5),
]
WEIGHT_DECAY = 0.05
# Cases with a schedule and clipping: (net, optimizer kind, weight decay, extra settings).
SCHEDULED = [
    ("softmax_ce", "adam", WEIGHT_DECAY, dict(name="adam_cosine_clip_norm", schedule="cosine", min_lr=0.001,
                                              clip_norm=0.05, clip_value=0.0)),
    ("tanh_mse", "rmsprop", 0.0, dict(name="rmsprop_onecycle_clip_value", schedule="onecycle", min_lr=0.0,
                                      clip_norm=0.0, clip_value=0.05)),
    ("sigmoid_bce_nesterov", "adamw", WEIGHT_DECAY, dict(name="adamw_cosine_clip_both", schedule="cosine",
                                                         min_lr=0.0, clip_norm=0.3, clip_value=0.02)),
]


def make_optimizer(o, wd, weights, biases):
    groups = [dict(params=weights, weight_decay=wd), dict(params=biases, weight_decay=0.0)]
    if o["kind"] == "adam":
        return torch.optim.Adam(groups, lr=o["lr"], betas=o["betas"], eps=o["eps"])
    if o["kind"] == "adamw":
        return torch.optim.AdamW(groups, lr=o["lr"], betas=o["betas"], eps=o["eps"])
    # rmsprop: momentum only in the case with weight decay, so both paths are checked
    return torch.optim.RMSprop(groups, lr=o["lr"], alpha=o["alpha"], eps=o["eps"],
                               momentum=o["momentum"] if wd > 0 else 0.0)


def run_optimizer_case(c, o, wd, extra=None):
    layers, _, x, y = build_case(c)
    opt = make_optimizer(o, wd, [m.weight for m in layers], [m.bias for m in layers])
    extra = extra or dict(schedule="constant", min_lr=0.0, clip_norm=0.0, clip_value=0.0)
    params = [t for m in layers for t in (m.weight, m.bias)]
    if extra["schedule"] == "cosine":  # one step per epoch: T_max = the steps
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=OPT_STEPS, eta_min=extra["min_lr"])
    elif extra["schedule"] == "onecycle":
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=o["lr"], total_steps=OPT_STEPS,
                                                        anneal_strategy="cos", cycle_momentum=False)
    else:
        scheduler = None
    losses = []
    for _ in range(OPT_STEPS):
        loss = case_loss(c, layers, x, y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        if extra["clip_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(params, extra["clip_norm"])
        if extra["clip_value"] > 0:
            torch.nn.utils.clip_grad_value_(params, extra["clip_value"])
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return losses, [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in layers]


def emit_net(c):
    """The net of case c (shape, data, initial parameters), shared by its optimizer cases."""
    widths, p = c["widths"], c["phase"]
    out = [f"// Net {c['name']}: {c['desc']}.", f"namespace {c['name']} {{",
           f"constexpr std::size_t batch = {len(c['inputs'])};",
           arr("widths", "std::size_t", widths), farr("inputs", c["inputs"]),
           arr("labels", "int", c["labels"]) if "labels" in c else farr("targets", c["targets"])]
    for l in range(len(widths) - 1):
        out += [farr(f"initial_weight_{l}", init_weight(l, widths[l], widths[l + 1], p)),
                farr(f"initial_bias_{l}", init_bias(l, widths[l + 1], p))]
    out.append(spans("initial", len(widths) - 1))
    return out


def spans(tag, layers):
    """TAG: weight 0, bias 0, weight 1, ... as spans (the test walks them without knowing the depth)."""
    names = [f"{tag}_{kind}_{l}" for l in range(layers) for kind in ("weight", "bias")]
    return (f"constexpr std::array<std::span<const float>, {len(names)}> {tag} = {{"
            + ", ".join(f"std::span<const float>({n})" for n in names) + "};")


def emit_optimizer_cases():
    print("// GENERATED FILE - do not edit by hand.")
    print(f"// Generated by experiments/pytorch/parity.py --optimizers with PyTorch {torch.__version__} "
          f"(numpy {np.__version__}).")
    print(f"// Command (from the repository root):\n//   {OPT_COMMAND}")
    print("// Weights are [fan_in, fan_out] row-major (Y = X W + b); conventions in the script.")
    print("// Each net namespace holds the net and one namespace per optimizer case: its settings,")
    print(f"// the loss before each of {OPT_STEPS} steps (no penalty term) and the final parameters.")
    print("// SINAPSIS_OPTIMIZER_CASES(X) lists the cases as X(net, case).")
    print("#pragma once\n\n#include <array>\n#include <cstddef>\n#include <span>\n\nnamespace sinapsis::parity_optimizers {\n")
    listed = []
    for c in CASES:
        out = emit_net(c)
        runs = [(o, wd, None) for o in OPTIMIZERS for wd in (0.0, WEIGHT_DECAY)]
        runs += [(next(o for o in OPTIMIZERS if o["kind"] == kind), wd, extra)
                 for net, kind, wd, extra in SCHEDULED if net == c["name"]]
        for o, wd, extra in runs:
            name = extra["name"] if extra else o["kind"] + ("_decay" if wd > 0 else "")
            momentum = o["momentum"] if (o["kind"] == "rmsprop" and wd > 0) else 0.0
            settings = extra or dict(schedule="constant", min_lr=0.0, clip_norm=0.0, clip_value=0.0)
            losses, final = run_optimizer_case(c, o, wd, extra)
            out += [f"// torch.optim.{dict(adam='Adam', adamw='AdamW', rmsprop='RMSprop')[o['kind']]} "
                    f"lr={o['lr']} betas={o['betas']} eps={o['eps']} alpha={o['alpha']} "
                    f"momentum={momentum} weight_decay={wd} (weights only)",
                    f"namespace {name} {{",
                    f'constexpr const char* optimizer = "{o["kind"]}";',
                    f"constexpr double learning_rate = {o['lr']!r};",
                    f"constexpr double beta1 = {o['betas'][0]!r};",
                    f"constexpr double beta2 = {o['betas'][1]!r};",
                    f"constexpr double eps = {o['eps']!r};",
                    f"constexpr double alpha = {o['alpha']!r};",
                    f"constexpr double momentum = {momentum!r};",
                    f"constexpr double weight_decay = {wd!r};",
                    f'constexpr const char* schedule = "{settings["schedule"]}";  // one step per epoch',
                    f"constexpr double min_lr = {settings['min_lr']!r};",
                    f"constexpr double clip_norm = {settings['clip_norm']!r};",
                    f"constexpr double clip_value = {settings['clip_value']!r};"]
            for l, (w, b) in enumerate(final):
                out += [farr(f"final_weight_{l}", w), farr(f"final_bias_{l}", b)]
            out += [spans("final", len(final)), farr("losses", losses), f"}}  // namespace {name}"]
            listed.append((c["name"], name))
        out += [f"}}  // namespace {c['name']}", ""]
        print("\n".join(out))
    print("}  // namespace sinapsis::parity_optimizers\n")
    print("#define SINAPSIS_OPTIMIZER_CASES(X) \\")
    print(" \\\n".join(f"  X({net}, {name})" for net, name in listed))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--optimizers":
        emit_optimizer_cases()
        return
    print("// GENERATED FILE - do not edit by hand.")
    print(f"// Generated by experiments/pytorch/parity.py with PyTorch {torch.__version__} "
          f"(numpy {np.__version__}).")
    print(f"// Command (from the repository root):\n//   {COMMAND}")
    print("// Weights are [fan_in, fan_out] row-major (Y = X W + b); conventions in the script.")
    print("#pragma once\n\n#include <array>\n#include <cstddef>\n\nnamespace sinapsis::parity {\n")
    for c in CASES:
        print(emit_case(c))
    print("}  // namespace sinapsis::parity")


if __name__ == "__main__":
    main()
