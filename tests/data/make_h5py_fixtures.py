#!/usr/bin/python3
"""Data files written by another tool (h5py), as users' files are: uint8
images in gzip+shuffle chunks, float64 features with int32 labels, and
string attributes written as numpy bytes (fixed-length) and as a list of str
(variable-length). Committed; tests/test_data_file.cpp reads them.
Run from the repository root: /usr/bin/python3 tests/data/make_h5py_fixtures.py
"""
import h5py
import numpy as np

rng = np.random.default_rng(7)
with h5py.File("tests/data/h5py_uint8_gzip.h5", "w") as f:
    images = (np.arange(12 * 784) % 256).astype(np.uint8).reshape(12, 784)
    f.create_dataset("features", data=images, compression="gzip", shuffle=True, chunks=(4, 784))
    f.create_dataset("labels", data=np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], dtype=np.uint8),
                     compression="gzip", chunks=(6,))
    f.attrs["class_names"] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    f.attrs["task"] = np.bytes_("classification")

with h5py.File("tests/data/h5py_float64_int32.h5", "w") as f:
    f.create_dataset("features", data=np.array([[0.5, -1.0], [2.0, 3.25], [-4.0, 0.0]], dtype=np.float64))
    f.create_dataset("labels", data=np.array([1, 0, 1], dtype=np.int32))
    f.attrs["feature_names"] = np.array([b"width", b"height"], dtype="S6")
print("wrote tests/data/h5py_*.h5")
