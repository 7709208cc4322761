"""L-BFGS: a quasi-Newton method on the flat vector of all parameters, with an optional
strong-Wolfe line search."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..autograd_saved_writes import note_write
from ..backend import xp
from ..function import enable_grad, no_grad
from .optimizer import Optimizer, check_tensor_lr, numbers_of


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x₁, f₁, f₁' = g₁) and (x₂, f₂, f₂' = g₂), clamped to
    ``bounds`` (default [min(x₁, x₂), max(x₁, x₂)]):

    d₁ = g₁ + g₂ - 3·(f₁ - f₂)/(x₁ - x₂)
    d₂ = √(d₁² - g₁·g₂)
    x* = x₂ - (x₂ - x₁)·(g₂ + d₂ - d₁)/(g₂ - g₁ + 2·d₂)     (x₁ ≤ x₂; mirrored otherwise)

    With no real d₂ (the cubic has no minimum) the bounds' midpoint.
    """
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if not d2_square >= 0:  # (a NaN too, as torch's test)
        return (lo + hi) / 2.0
    d2 = xp.sqrt(d2_square)
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(obj, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d meeting the strong Wolfe conditions (Nocedal & Wright, alg. 3.5-3.6):

    f(x + t·d) ≤ f(x) + c₁·t·∇f(x)ᵀd          (sufficient decrease)
    |∇f(x + t·d)ᵀd| ≤ -c₂·∇f(x)ᵀd             (curvature)

    First bracket an interval holding such a t (growing t by cubic extrapolation up to ×10),
    then zoom into it by cubic interpolation. ``obj(x, t, d)`` returns (f, ∇f) at x + t·d.
    Returns (f, ∇f, t, evaluations) at the best point found.
    """
    d_norm = xp.abs(d).max()
    f_new, g_new = obj(x, t, d)
    evals = 1
    gtd_new = g_new.dot(d)

    # bracketing: b holds [t, f, g, gtdᵀ] for each end of the bracket
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            b = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        if abs(gtd_new) <= -c2 * gtd:
            b = [[t, f_new, g_new, None]]
            done = True
            break
        if gtd_new >= 0:
            b = [[t_prev, f_prev, g_prev, gtd_prev], [t, f_new, g_new, gtd_new]]
            break
        # extrapolate, between 1.01·t and 10·t
        lo, hi = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, (lo, hi))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        b = [[0, f, g, None], [t, f_new, g_new, None]]

    # zoom: shrink the bracket around a point meeting both conditions
    insuf_progress = False
    low, high = (0, 1) if b[0][1] <= b[-1][1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(b[1][0] - b[0][0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(b[0][0], b[0][1], b[0][3], b[1][0], b[1][1], b[1][3])
        # too near an end of the bracket twice running (or at it): step 10% of it inside
        t_lo, t_hi = min(b[0][0], b[1][0]), max(b[0][0], b[1][0])
        eps = 0.1 * (t_hi - t_lo)
        if min(t_hi - t, t - t_lo) < eps:
            if insuf_progress or t >= t_hi or t <= t_lo:
                t = t_hi - eps if abs(t - t_hi) < abs(t - t_lo) else t_lo + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj(x, t, d)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= b[low][1]:
            b[high] = [t, f_new, g_new, gtd_new]  # no sufficient decrease: the new high end
            low, high = (0, 1) if b[0][1] <= b[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (b[high][0] - b[low][0]) >= 0:
                b[high] = list(b[low])  # the old low end becomes the high end
            b[low] = [t, f_new, g_new, gtd_new]
    t, f_new, g_new, _ = b[low]
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    """Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989), as torch's, on the flat vector θ
    of all parameters with gradient g = ∇f(θ). Each ``step(closure)`` runs up to ``max_iter``
    iterations k:

    sₖ₋₁ = θₖ - θₖ₋₁,  yₖ₋₁ = gₖ - gₖ₋₁,  ρ = 1/(yᵀs)     (kept, last history_size, if yᵀs > 1e-10)
    H₀ = (yᵀs)/(yᵀy)                                       (latest pair; 1 before any)
    q ← -gₖ;  for i newest → oldest:  αᵢ = ρᵢ·sᵢᵀq,  q ← q - αᵢ·yᵢ
    r ← H₀·q;  for i oldest → newest:  βᵢ = ρᵢ·yᵢᵀr,  r ← r + (αᵢ - βᵢ)·sᵢ
    dₖ = r   (dₖ = -gₖ at the very first iteration)
    θₖ₊₁ = θₖ + tₖ·dₖ

    tₖ = lr (at the first iteration lr·min(1, 1/‖g‖₁)), or with line_search_fn="strong_wolfe"
    the step of a strong-Wolfe line search started there. An iteration is not taken when
    gᵀd > -tolerance_change; the step stops after max_iter iterations or max_eval closure calls,
    or when max|g| ≤ tolerance_grad, max|tₖ·dₖ| ≤ tolerance_change or
    |f(θₖ₊₁) - f(θₖ)| < tolerance_change. The history is kept across steps. Returns the loss
    of the closure's first call.

    One parameter group only; the state lives under the first parameter, as in torch.
    """

    has_maximize = False  # torch's has none: its param_groups carry no such key

    def __init__(
        self,
        params,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(
            params,
            dict(
                lr=lr,
                max_iter=max_iter,
                max_eval=max_eval,
                tolerance_grad=tolerance_grad,
                tolerance_change=tolerance_change,
                history_size=history_size,
                line_search_fn=line_search_fn,
            ),
        )
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ------------------------------------------------------------ the flat vector
    def _gather_flat_grad(self):
        return xp.concatenate(
            [
                xp.zeros(p.array.size, dtype=p.array.dtype)
                if p.grad is None
                else xp.asarray(p.grad.array).reshape(-1)
                for p in self._params
            ]
        )

    def _add_grad(self, t, d) -> None:
        """θ ← θ + t·d, parameter by parameter."""
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += t * d[offset : offset + n].reshape(p.array.shape)
            note_write(p.array)
            offset += n

    def _directional_evaluate(self, closure, x, t, d):
        """(f, ∇f) at θ + t·d, leaving θ = x afterwards."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            p.array[...] = saved
            note_write(p.array)
        return loss, flat_grad

    # the state holds lists of arrays (the history): save and load copies, never shared lists
    def state_dict(self) -> dict:
        return copy.deepcopy(super().state_dict())

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(copy.deepcopy(state_dict))

    # ------------------------------------------------------------ step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Up to max_iter L-BFGS iterations; ``closure`` zeroes the gradients, computes the loss,
        calls ``backward()`` and returns the loss. Returns the loss of its first call."""
        if closure is None:
            raise TypeError(
                "LBFGS.step() requires a closure that re-evaluates the model and returns the"
                " loss: opt.step(closure)"
            )
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = numbers_of(self.param_groups[0])  # a tensor lr as its number
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if xp.abs(flat_grad).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")  # noqa: N806 - the equation's symbol
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # the direction d
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1  # noqa: N806
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)  # noqa: N806
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # the step length t
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tol_change:  # not a descent direction (to tolerance)
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p.array.copy() for p in self._params]

                def obj(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tol_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:  # the last iteration's loss would go unused
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tol_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state["d"], state["t"] = d, t
        state["old_dirs"], state["old_stps"], state["ro"] = old_dirs, old_stps, ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"], state["prev_loss"] = prev_flat_grad, prev_loss
        return orig_loss
