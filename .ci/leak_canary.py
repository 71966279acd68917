"""Run by .ci/sanitize.sh under ASan/LSan: calls a bouncekit-built module that
leaks a parsed ConfigValue on purpose, after using the real API a little (so
CPython, NumPy and Arrow allocations are live too). The run must end with a
LeakSanitizer report naming bouncekit code; the script itself succeeds."""

import ctypes
import glob
import os
import sys

import pandas as pd

import bouncekit

df = pd.DataFrame({"reply_code": [550, 421], "diagnostic": ["5.1.1 user unknown", "try later"]})
bouncekit.classify(df)
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
lib = glob.glob(os.path.join(root, "build", "asan", "tests", "sanitize", "bouncekit_leak_canary*.so"))
if not lib:
    sys.exit("leak canary module not built")
canary = ctypes.CDLL(lib[0])
canary.bouncekit_leak_canary.restype = ctypes.c_int64
canary.bouncekit_leak_canary()
print("leak canary: leaked one ConfigValue")
