"""Complex numbers in autograd: the ops that cross between real and complex, and the rule
the backward engine applies whenever a complex gradient arrives at a node.

torch's convention, which ember follows: for a real loss L and z = x + iy, the gradient
stored for z is

    ∂L/∂z̄·2 = ∂L/∂x + i·∂L/∂y            (L = |z|² gives z.grad = 2z)

so a holomorphic op y = f(z) passes back  g_z = conj(f′(z))·g_y,  a bilinear one conjugates
the other operand (Mul: g_a = g·b̄; MatMul: g_a = g @ b̄ᵀ, g_b = āᵀ @ g), and a real input
of an op with a complex output keeps the real part of what that rule gives it.

Every real backward in ember computes  B(g) = g·f′(z)  (or the bilinear form), linear in
g. For complex numbers the conjugate rule is then  conj(B(conj g)): the engine calls
``complex_backward`` only where a node receives a complex gradient (one dtype test per node,
nothing on real paths), and that runs the op's own backward between two conjugations —
for the ops listed in ``HOLOMORPHIC`` — or the op's hand-written complex rule
(``OWN``). Any other op meeting a complex gradient is a TypeError naming it: ember never
guesses a complex derivative.

The ops below cross between the two worlds (their backward is the convention above):

    real(z) = x            g_z = g                (a complex array with Im = 0)
    imag(z) = y            g_z = i·g
    conj(z) = x − iy       g_z = conj(g)
    angle(z) = atan2(y, x) g_z = g·i·z/|z|²       (0 at z = 0, as torch)
    complex(x, y) = x + iy g_x = Re g, g_y = Im g
    view_as_real(z) = [x, y] on a last axis of 2, view_as_complex its inverse
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from . import activations as A
from . import conv as CV
from . import conv3d as C3
from . import conv_transpose as CT
from . import einsum as ES
from . import elementwise as E
from . import elementwise_more as M
from . import index as IX
from . import index_more as IM
from . import index_put as IP
from . import linalg as L
from . import linalg_decomp as LD
from . import linalg_eig as LE
from . import linalg_funcs as LF
from . import linalg_more as LM
from . import reduce as R
from . import reduce_more as RM
from . import scan as SC
from . import shape as S
from . import unfold as U


def complex_dtype(dtype):
    """The complex dtype of a float dtype's precision (float32 → complex64)."""
    xp = get_array_module()
    dtype = xp.dtype(dtype)  # a scalar type too (backend.DEFAULT_DTYPE is xp.float32)
    if dtype.kind == "c":
        return dtype
    return xp.dtype(xp.complex128 if dtype == xp.float64 else xp.complex64)


def real_dtype(dtype):
    """The float dtype of a complex dtype's precision (complex64 → float32)."""
    xp = get_array_module()
    if dtype.kind != "c":
        return dtype
    return xp.dtype(xp.float64 if dtype == xp.complex128 else xp.float32)


class Real(Function):
    def forward(self, z):
        self.dtype = z.dtype
        return z.real

    def backward(self, gy):
        return (gy.astype(self.dtype),)


class Imag(Function):
    def forward(self, z):
        self.dtype = z.dtype
        return z.imag

    def backward(self, gy):
        return ((1j * gy).astype(self.dtype, copy=False),)


class Conj(Function):
    def forward(self, z):
        return z.conj()

    def backward(self, gy):
        return (gy.conj(),)


class Angle(Function):
    """θ = atan2(y, x) for complex z; for a real z torch's angle is 0 or π, gradient 0."""

    def forward(self, z):
        self.z = z
        xp = get_array_module(z)
        if z.dtype.kind == "c":
            return xp.angle(z).astype(real_dtype(z.dtype), copy=False)
        # torch's real angle: π below 0, else 0 (-0.0 included, where atan2 gives π), nan kept
        theta = xp.where(z < 0, xp.pi, 0.0).astype(real_dtype(z.dtype), copy=False)
        return xp.where(z != z, z, theta)

    def backward(self, gy):
        xp = get_array_module(gy)
        z = self.z
        if z.dtype.kind != "c":
            return (xp.zeros_like(z),)
        zero = z == 0
        d = xp.where(zero, 1, z * z.conj()).real
        return (xp.where(zero, 0, gy * 1j * z / d).astype(z.dtype, copy=False),)


class Complex(Function):
    """z = x + iy from two real arrays of one float dtype."""

    def forward(self, x, y):
        xp = get_array_module(x)
        z = xp.empty(xp.broadcast_shapes(x.shape, y.shape), complex_dtype(x.dtype))
        z.real, z.imag = x, y
        self.sx, self.sy = x.shape, y.shape
        return z

    def backward(self, gy):
        from ..function import unbroadcast

        nx, ny = self.needs_input_grad
        return (
            unbroadcast(gy.real, self.sx) if nx else None,
            unbroadcast(gy.imag, self.sy) if ny else None,
        )


class ViewAsReal(Function):
    """[..., 2] real array of (Re, Im) pairs (torch's view_as_real; a copy here)."""

    def forward(self, z):
        xp = get_array_module(z)
        self.dtype = z.dtype
        return xp.stack([z.real, z.imag], axis=-1)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = xp.empty(gy.shape[:-1], self.dtype)
        g.real, g.imag = gy[..., 0], gy[..., 1]
        return (g,)


class ViewAsComplex(Function):
    """The inverse of ViewAsReal: a real [..., 2] array read as complex numbers."""

    def forward(self, x):
        xp = get_array_module(x)
        if x.ndim == 0 or x.shape[-1] != 2:
            raise RuntimeError(f"view_as_complex: the last dimension must be 2, got {x.shape}")
        z = xp.empty(x.shape[:-1], complex_dtype(x.dtype))
        z.real, z.imag = x[..., 0], x[..., 1]
        return z

    def backward(self, gy):
        xp = get_array_module(gy)
        return (xp.stack([gy.real, gy.imag], axis=-1),)


def _astype_rule(fn, gys):
    """A cast: complex → complex keeps the gradient; real → complex keeps its real part."""
    (g,) = gys
    return (g.real.astype(fn.dtype) if fn.dtype.kind != "c" else g.astype(fn.dtype),)


#: Ops whose real backward B(g) is linear in g with the derivative as coefficient, so that
#: conj(B(conj g)) is torch's complex gradient (each is checked in tests/test_complex_autograd.py)
HOLOMORPHIC = {
    E.Add, E.Sub, E.Mul, E.Div, E.Neg,
    E.AddScalar, E.MulScalar, E.DivScalar, E.RSubScalar, E.RDivScalar, E.PowScalar,
    E.RPowScalar,
    E.Exp, E.Log, E.Log1p, E.Expm1, E.Sqrt, E.Sin, E.Cos, E.Where, A.Tanh, A.Sigmoid,
    M.Tan, M.Sinh, M.Cosh, M.Asin, M.Atan, M.Asinh, M.Atanh,
    M.Acos, M.Acosh, M.Log2, M.Log10, M.Sinc,  # −(1 − z²)^−½, ((z − 1)(z + 1))^−½, …
    R.Sum, R.Mean, SC.CumSum, SC.CumProd, SC.Prod, L.MatMul, L.Linear,
    CV.Conv2d,  # bilinear in (x, W): g_x = conv_T(g, W̄), g_W = corr(x̄, g), every algorithm
    C3.Conv3d,  # the same in 3-D: g_W = ∂L/∂Y·X̄_colᵀ, g_X_col = W̄_matᵀ·∂L/∂Y, col2im
    S.Reshape, S.Permute, S.Expand, S.Cat, S.Stack, S.Split, S.Pad, S.GetItem, S.Copy,
    S.Windows, IX.IndexSelect, U.Unfold, U.Fold,  # linear, real coefficients (ember.stft)
    IP.SetItem,  # z[i] = v on a complex tensor (tensor_inplace's indexed assignment)
    # linear with 0/1 (or α) coefficients: gather, take_along_dim, the scatters and index_*
    IX.Gather, IX.Scatter, IX.ScatterAdd, IX.MaskedSelect, IM.IndexAdd, IM.IndexCopy,
    IM.IndexFill, IP.IndexPut, IP.MaskedScatter,
    # scatter_reduce 'sum'/'mean' are linear (real 1/count); 'prod' is holomorphic:
    # g_x = g·conj(y/x), g_src = g·conj(y/src); 'amax'/'amin' are refused in its forward
    IM.ScatterReduce,
    ES.Einsum,  # g_k = einsum(g, the other operands): bilinear like MatMul
    CT.ConvTranspose2d,  # (1-d too) bilinear: g_x = conv(g, W̄), g_W = x̄ ⋆ g
    R.LogSumExp,  # g·softmax(z)
    E.Pow,  # z^w: g_z = g·conj(w·z^(w−1)), g_w = g·conj(z^w·log z) (principal log)
    # holomorphic matrix functions, their backward written with Aᵀ: inv → −Yᴴ Ȳ Yᴴ, solve →
    # B̄ = A⁻ᴴ X̄, Ā = −B̄ Xᴴ, det → ḡ·conj(det A)·A⁻ᴴ, matrix_exp → exp([[Aᴴ, Ȳ], [0, Aᴴ]])₁₂
    LM.Inv, LM.Solve, LM.SolveTriangular, LM.Det, LD.MatrixExp,
    LF.LuFactor,  # L and U are rational in A (the pivots piecewise constant): torch's with ᴴ
}  # fmt: skip

#: Ops with a hand-written complex rule: their backward already follows the convention
#: (called as is), or a function (fn, gys) → grads.
OWN = {Real: None, Imag: None, Conj: None, Angle: None, Complex: None, ViewAsReal: None,
       ViewAsComplex: None, S.Astype: _astype_rule,
       # real-valued functions of z whose backward, g·(∂/∂x + i∂/∂y), is already written as
       # torch's: |z| → g·z/|z| (NumPy's sign of a complex z is z/|z|), var/std → g·2(z − z̄ₘ)/n,
       # ‖z‖_p → g·sgn(z)·|z|^{p−1}/‖z‖^{p−1}
       E.Abs: None, R.Var: None, R.Std: None, SC.PNorm: None,
       # logcumsumexp and logaddexp: their backward takes a complex branch itself
       RM.LogCumSumExp: None, M.LogAddExp: None,
       # torch.linalg's non-holomorphic ones, their backward torch's formula with Aᴴ, checking
       # the phase invariance of eigenvectors and singular vectors as torch does
       LM.SlogDet: None, LM.Cholesky: None, LM.Pinv: None, LM.Lstsq: None, LD.Eigh: None,
       LD.EigvalsH: None, LD.Svd: None, LD.SvdVals: None, LD.Qr: None,
       LD.NegativePNorm: None, LF.NoGradient: None,
       LE.Eig: None, LE.Eigvals: None}  # fmt: skip


def register_own(cls, rule=None) -> None:
    """Declare that ``cls``'s backward handles complex gradients itself (ember.ops.fft)."""
    OWN[cls] = rule


def unsupported(fn) -> TypeError:
    return TypeError(
        f"{fn.name} has no complex gradient in ember: a complex gradient reached it in"
        " backward (an input or output of this op is complex). Complex autograd covers the"
        " elementwise arithmetic, exp/log/log2/log10/log1p/expm1/sqrt, sin/cos/tan/tanh/sigmoid/"
        "sinh/cosh/asin/acos/atan/asinh/acosh/atanh/sinc, abs/angle/real/imag/conj,"
        " sum/mean/prod/cumsum/cumprod,"
        " logsumexp/logcumsumexp/logaddexp, matmul/linear/einsum, pow,"
        " conv1d/conv2d/conv3d/conv_transpose1d/2d, shape ops, indexing,"
        " gather/scatter/scatter_reduce/index_*, ember.fft and stft/istft, ember.linalg's"
        " inv/solve/det/slogdet/cholesky/qr/eig/eigh/svd/pinv/lstsq/lu/matrix_exp/norms; compute"
        " this step on real and imaginary parts (z.real, z.imag) or detach it"
    )


def any_complex(gys) -> bool:
    """Whether any of a multi-output node's output gradients is complex."""
    return any(g is not None and g.dtype.kind == "c" for g in gys)


def complex_backward(fn, gys):
    """torch's complex gradients for node ``fn`` given its output gradients ``gys`` (at
    least one complex): conj(B(conj g)) for a HOLOMORPHIC op, the op's own rule for OWN,
    then the real part for each real input; any other op is refused, so none runs its real
    backward on a complex gradient unchecked. (An op with a complex input and a real output
    meets a real gradient: the ones ember has, abs, angle, real, imag, view_as_real, var,
    std and the norms, are in OWN and correct as they are.)"""
    cls = type(fn)
    if cls in HOLOMORPHIC:
        cg = [None if g is None or g.dtype.kind != "c" else g.conj() for g in gys]
        grads = fn.backward(*cg) if fn.multi_output else fn.backward(cg[0])
        conj = True
    elif cls in OWN:
        rule = OWN[cls]
        if rule is not None:
            grads = rule(fn, gys)
        else:
            grads = fn.backward(*gys) if fn.multi_output else fn.backward(gys[0])
        conj = False
    else:
        raise unsupported(fn)
    out = []
    for p, g in zip(fn.parents, grads):
        if g is not None and p is not None and g.dtype.kind == "c":
            if p.array.dtype.kind != "c":
                g = g.real  # Re(conj g) = Re g: a real input keeps the real part
            elif conj:
                g = g.conj()
        out.append(g)
    return tuple(out)
