"""torch.utils.module_tracker: ``ModuleTracker`` says, at any point of a forward or backward
pass run inside it, which modules that point belongs to.

    with ModuleTracker() as tracker:
        ...  # inside any op: tracker.parents == {"Global", "Net", "Net.fc1"}; tracker.is_bw

``parents`` holds "Global" and the names of the modules whose forward is running (named as
torch names them: ``nn.module_tracking.ModulePaths``). During backward, ``is_bw`` is True and
``parents`` are the modules in whose forward the op now being differentiated ran (ember's
backward engine tells its observers which op it runs next; the module path of each op is
noted when its forward runs inside the block).
"""

from __future__ import annotations

from ..autograd import tasks
from ..nn.module_tracking import ModuleObserver, ModulePaths

__all__ = ["ModuleTracker"]


class ModuleTracker(ModuleObserver):
    """See the module docstring."""

    def __init__(self) -> None:
        self._paths = ModulePaths()
        self._backward_path: tuple[str, ...] = ()

    @property
    def is_bw(self) -> bool:
        """Whether a backward sweep is running (ember's engine lists its running sweeps)."""
        return bool(tasks)

    @property
    def parents(self) -> set[str]:
        return {"Global", *(self._backward_path if self.is_bw else self._paths.current())}

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        self._backward_path = ()

    # observer protocol (function.py): forward ops note their modules, backward ops set them
    def on_forward(self, fn, inputs, out) -> None:
        if getattr(fn, "parents", None) is not None:  # recorded: its backward may run
            fn._module_path = self._paths.current()

    def on_backward_start(self, fn) -> None:
        self._backward_path = getattr(fn, "_module_path", ())

    def on_backward(self, fn, grad_outputs, grad_inputs) -> None:
        pass
