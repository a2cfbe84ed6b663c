#!/usr/bin/env python3
"""Independent safetensors reader/writer for @synth2/core's interop tests.

Written from the format's published description (8-byte little-endian header length, a UTF-8 JSON header with
dtype/shape/data_offsets per tensor and an optional "__metadata__" string map, then the raw little-endian data),
with numpy only -- not the `safetensors` package.

  safetensors-interop.py write OUT.safetensors EXPECTED.json [--unaligned]
  safetensors-interop.py read IN.safetensors        # prints the tensors as JSON on stdout
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": "<f4", "F16": "<f2", "I32": "<i4", "U16": "<u2", "U8": "u1", "F64": "<f8", "I64": "<i8"}


def fixture_tensors():
    return {
        "embeddings": np.linspace(-2.5, 2.5, 24, dtype=np.float32).reshape(2, 3, 4),
        "half": np.array([[0.0, 1.0, -2.5, 65504.0], [0.1, 1e-5, -0.333, 3.14159]], dtype=np.float16),
        "tokens": np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000003,
        "codes": np.array([0, 1, 511, 65535, 40000], dtype=np.uint16),
        "pixels": np.arange(0, 250, 25, dtype=np.uint8).reshape(2, 5),
        "scalar": np.array(7.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def write(path, expected_path, unaligned=False):
    tensors = fixture_tensors()
    names = sorted(tensors)  # name order, whatever the element sizes: alignment is not guaranteed
    header = {"__metadata__": {"format": "pt", "writer": "numpy-interop"}}
    blobs = []
    offset = 0
    for name in names:
        arr = tensors[name]
        raw = arr.astype(DTYPES[dtype_of(arr)]).tobytes(order="C")
        header[name] = {"dtype": dtype_of(arr), "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if unaligned:
        if (8 + len(text)) % 4 == 0:
            text += b" "  # make the data section start off a 4-byte boundary
    else:
        text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    expected = {name: describe(arr) for name, arr in tensors.items()}
    expected["__metadata__"] = header["__metadata__"]
    with open(expected_path, "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def dtype_of(arr):
    return {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("int32"): "I32",
            np.dtype("uint16"): "U16", np.dtype("uint8"): "U8"}[arr.dtype]


def describe(arr):
    return {"dtype": dtype_of(arr), "shape": list(arr.shape),
            "values": [float(v) if arr.dtype.kind == "f" else int(v) for v in arr.reshape(-1).tolist()]}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    out = {"__metadata__": header.pop("__metadata__", {})}
    end_max = 0
    for name, info in header.items():
        begin, end = info["data_offsets"]
        end_max = max(end_max, end)
        arr = np.frombuffer(body[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        assert arr.nbytes == end - begin, name
        out[name] = describe(arr)
    assert end_max == len(body), "data section has trailing bytes"
    assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], unaligned="--unaligned" in sys.argv)
    elif sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        sys.exit(__doc__)
