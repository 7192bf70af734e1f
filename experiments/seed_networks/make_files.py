#!/usr/bin/python3
"""Writes the lecture's networks and the tiny XOR data sets with h5py, by hand,
following the model-file layout documented in README.md. Run from the repo
root with Debian's python3-h5py:  /usr/bin/python3 experiments/seed_networks/make_files.py
The outputs are committed; this script shows how they were made and that a
model written by another tool loads in sinapsis.
"""
import h5py
import numpy as np

HERE = "experiments/seed_networks"
DATA = "experiments/data"


def write_model(path, layers, loss="mse"):
    """layers: list of (W [fan_in, fan_out], b [fan_out], activation, threshold or None)."""
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "sinapsis-model"
        f.attrs["version"] = 1
        f.attrs["loss"] = loss
        f.attrs["features"] = "x1,x2"
        for i, (w, b, act, threshold) in enumerate(layers):
            g = f.create_group(f"layers/{i}")
            g.create_dataset("weight", data=np.asarray(w, dtype=np.float32))
            g.create_dataset("bias", data=np.asarray(b, dtype=np.float32))
            g.attrs["activation"] = act
            if threshold is not None:
                g.attrs["threshold"] = float(threshold)


# Goodfellow et al. (2016) section 6.1, as in the lecture: f(x) = w^T max(0, W^T x + c) + b.
write_model(f"{HERE}/xor_worked.h5", [
    ([[1, 1], [1, 1]], [0, -1], "relu", None),
    ([[1], [-2]], [0], "linear", None),
])

# McCulloch-Pitts units: binary step, fixed threshold, fire when the weighted
# sum >= threshold (Fausett's weights).
def step_unit(weights, threshold):
    return (np.asarray(weights, dtype=np.float32).reshape(-1, 1), [0], "step", threshold)

write_model(f"{HERE}/mp_or.h5", [step_unit([2, 2], 2)])
write_model(f"{HERE}/mp_and.h5", [step_unit([1, 1], 2)])
write_model(f"{HERE}/mp_and_not.h5", [step_unit([2, -1], 2)])  # x1 AND NOT x2
# (x1 AND NOT x2) OR (x2 AND NOT x1): two AND NOT units, then OR.
write_model(f"{HERE}/mp_xor.h5", [
    ([[2, -1], [-1, 2]], [0, 0], "step", 2),
    ([[2], [2]], [0], "step", 2),
])

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
with h5py.File(f"{DATA}/xor.h5", "w") as f:  # classification: class ids
    f.create_dataset("features", data=X)
    f.create_dataset("labels", data=np.array([0, 1, 1, 0], dtype=np.int64))
with h5py.File(f"{DATA}/xor_regression.h5", "w") as f:  # the lecture's MSE regression framing
    f.create_dataset("features", data=X)
    f.create_dataset("labels", data=np.array([0, 1, 1, 0], dtype=np.float32))
print("wrote", HERE, "and", DATA)
