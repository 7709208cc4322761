"""torch computes ±inf and nan silently; NumPy warns at each. backend.py ignores NumPy's
floating-point RuntimeWarnings raised in ember's own code (log of 0, division by 0, sqrt of a
negative, exp overflowing, GELU and SiLU at -inf), while the user's own NumPy calls still warn.
Run in a fresh interpreter with every warning shown (-W always), as a user's script would."""

import subprocess
import sys

_SCRIPT = """
import warnings, numpy as np, ember
import ember.functional as F
with warnings.catch_warnings(record=True) as caught:
    ember.tensor([0.0]).log()
    ember.tensor([1.0]) / 0
    ember.tensor([-1.0]).sqrt()
    ember.tensor([100.0]).exp()
    F.gelu(ember.tensor([-float("inf")]))
    F.silu(ember.tensor([-float("inf")]))
    x = ember.tensor([0.0, -1.0], requires_grad=True)
    x.log().sum().backward()
    ours = [str(w.message) for w in caught]
    np.log(np.zeros(1))
    theirs = [str(w.message) for w in caught][len(ours):]
print(ours, theirs)
assert ours == [], ours
assert theirs == ["divide by zero encountered in log"], theirs
"""


def test_numpy_floating_point_warnings_from_ember_are_silent():
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", _SCRIPT], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
