"""ember: a deep-learning framework on NumPy that reads like the equations.

import ember
x = ember.randn(4, 3, requires_grad=True)
(x * x).sum().backward()
"""

from . import backend, cuda, distributed, distributions, functional, linalg, nn, optim, profiler  # noqa: E402
from .backend import Generator, default_generator, device, float32, float64, int64
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    initial_seed,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
    tensor,
    zeros,
    zeros_like,
)
from .diagnose.anomaly import detect_anomaly  # safe here: nn is imported above
from .errors import InputAssertionError, InputError
from .function import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .functional.index import (
    argsort,
    cumprod,
    cumsum,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_select,
    nonzero,
    norm,
    prod,
    repeat_interleave,
    scatter,
    scatter_add,
    scatter_reduce,
    sort,
    take_along_dim,
    topk,
    unique,
)
from .functional.shape import cat, maximum, minimum, stack, where
from .functional.shape_more import (
    block_diag,
    dsplit,
    hsplit,
    kthvalue,
    msort,
    rot90,
    tensordot,
    vsplit,
)
from .gradcheck import GradcheckError, gradcheck, gradcheck_report, gradgradcheck
from .mistakes import EmberWarning
from .serialization import CheckpointError, load, save
from .size import Size
from .storage import LEGACY_CLASSES as _LEGACY_STORAGES
from .storage import TypedStorage, UntypedStorage
from .tensor import Tensor, apply
from .tensor_torch_more2 import geqrf, ormqr  # LAPACK's compact QR pair, as torch's
from .threads import get_num_threads, set_num_threads
from .torch_aliases import *  # noqa: F403 - concat … promote_types, in its __all__
from .torch_copies import *  # noqa: F403 - the *_copy forms, in-place forms, flags, in its __all__
from .torch_functions import *  # noqa: F403 - torch's top-level functions, listed in its __all__
from .torch_index_shape import *  # noqa: F403 - index_put … vstack, in its __all__
from .torch_int_math import *  # noqa: F403 - frexp … copysign, in its __all__
from .torch_linalg_funcs import *  # noqa: F403 - addbmm … vdot, in its __all__
from .torch_lowrank import *  # noqa: F403 - svd_lowrank, pca_lowrank …, in its __all__
from .torch_math import *  # noqa: F403 - torch's further maths (tan … cdist), in its __all__
from .torch_math_complex import *  # noqa: F403 - real, imag, angle, complex, polar, view_as_*
from .torch_misc import *  # noqa: F403 - empty_like … windows, RNG state, in its __all__
from .torch_nn_functions import *  # noqa: F403 - slice_scatter …, torch.conv2d …, in its __all__
from .torch_special_linalg import *  # noqa: F403 - i0 … lu_unpack, in its __all__
from .torch_stats_more import *  # noqa: F403 - mode … renorm, in its __all__
from .torch_stft import istft, stft  # noqa: E402 - torch.stft, torch.istft

bool = backend.bool_  # noqa: A001 - torch's name for the boolean dtype
long = int64
float = float32  # noqa: A001
double = float64
complex64 = cfloat = backend.xp.complex64
complex128 = cdouble = backend.xp.complex128
orgqr = linalg.householder_product  # torch.orgqr: Q = H₁⋯H_k from geqrf's (A, tau)

# torch's module paths (ember.utils.data, ember.testing, ember.special) and torch.autograd's
# further API (custom Functions, autograd.functional, gradgradcheck) and torch.func, attached
# to ember.autograd and importable by torch's module paths; ember.onnx (the onnx package
# itself is imported on the first export)
from . import (  # noqa: E402, F401
    accelerator,
    autograd_api,
    backends,
    cpu,
    fft,
    func,
    hub,
    multiprocessing,
    onnx,
    random,
    signal,
    special,
    testing,
    utils,
)

# torch.amp (ember.amp, bound by this import) and torch's top-level autocast functions
from .amp.autocast_mode import (  # noqa: E402
    autocast,
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)

# torch's constants (pi, inf …), dtype names (int, short), ember.dtype, the legacy tensor types
# (FloatTensor …) and small top-level forms; ember.cpu (above) is torch.cpu's names
from .torch_constants import *  # noqa: E402, F403

# torch.cond, torch.while_loop (eager), torch.fork/wait, torch.from_file, torch.norm_except_dim
from .torch_control import (  # noqa: E402, F401
    cond,
    fork,
    from_file,
    norm_except_dim,
    wait,
    while_loop,
)
from .version import __version__  # noqa: E402 - and ember.version is torch.version

# torch.vmap, torch.func.vmap's alias (func_vmap.py)
vmap = func.vmap

# torch's memory formats (torch.channels_last …) and their type, torch.memory_format
# torch's out= keyword on the functions that take it (out_argument.py): installed last, over
# the finished namespaces of ember, ember.linalg, ember.special and ember.fft
from . import out_argument, tensor_numpy_names  # noqa: E402
from .memory_formats import (  # noqa: E402
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)

tensor_numpy_names.add_numpy_names_to_functions(globals())  # axis=/keepdims=, before out=
out_argument.install()

globals().update(_LEGACY_STORAGES)  # FloatStorage, DoubleStorage …, as torch's names
