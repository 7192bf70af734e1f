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


def run_case(c):
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
    opt = torch.optim.SGD([dict(params=[m.weight for m in layers], weight_decay=c["wd"]),
                           dict(params=[m.bias for m in layers], weight_decay=0.0)],
                          lr=c["lr"], momentum=c["momentum"], dampening=0.0, nesterov=c["nesterov"])
    losses = []
    for _ in range(STEPS):
        h = x
        for l, lin in enumerate(layers):
            h = lin(h)
            act = c["hidden"][l] if l < len(layers) - 1 else c["out"]
            h = act(h) if act is not None else h
        loss = c["loss"](h, y)
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


def main():
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
