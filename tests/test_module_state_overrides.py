"""Module._save_to_state_dict / _load_from_state_dict overrides, state_dict()._metadata and the
per-module load walk (ember/nn/module_state_load.py), against torch: the same classes written
once over ``lib`` give the same keys, values, call order and errors in both frameworks."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _numpy(t):
    return np.asarray(t.detach().numpy())


def _legacy_linear(lib):
    class LegacyLinear(lib.nn.Linear):
        """Version 1 saved its parameters as "w" and "b"."""

        _version = 2

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            if local_metadata.get("version", 1) < 2:
                for old, new in (("w", "weight"), ("b", "bias")):
                    if prefix + old in state_dict:
                        state_dict[prefix + new] = state_dict.pop(prefix + old)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    return LegacyLinear


def _net(lib, cls=None):
    cls = cls or _legacy_linear(lib)
    return lib.nn.Sequential(cls(3, 2), lib.nn.ReLU(), lib.nn.Sequential(cls(2, 1)))


def _legacy_state(lib):
    rng = np.random.default_rng(0)
    shapes = {"0.w": (2, 3), "0.b": (2,), "2.0.w": (1, 2), "2.0.b": (1,)}
    return {k: lib.tensor(rng.standard_normal(s).astype(np.float32)) for k, s in shapes.items()}


def test_load_override_reads_an_old_layout():
    results = {}
    for lib in (torch, ember):
        net = _net(lib)
        keys = net.load_state_dict(_legacy_state(lib))
        results[lib] = ({k: _numpy(v) for k, v in net.state_dict().items()}, keys)
    (want, want_keys), (got, got_keys) = results[torch], results[ember]
    assert list(got) == list(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    assert (got_keys.missing_keys, got_keys.unexpected_keys) == ([], [])
    assert (want_keys.missing_keys, want_keys.unexpected_keys) == ([], [])


def test_metadata_records_each_module_version():
    for_lib = {}
    for lib in (torch, ember):
        net = lib.nn.Sequential(_net(lib), lib.nn.BatchNorm1d(1), lib.nn.LayerNorm(1))
        for_lib[lib] = dict(net.state_dict()._metadata)
    assert for_lib[ember] == for_lib[torch]
    assert for_lib[ember]["1"] == {"version": 2}  # batch norm is at version 2, as torch's


def test_new_layout_with_metadata_is_not_renamed():
    """With the metadata of a version-2 state dict the override renames nothing: saving and
    loading round-trips through the walk."""
    for lib in (torch, ember):
        net, other = _net(lib), _net(lib)
        sd = net.state_dict()
        other.load_state_dict(sd)
        for a, b in zip(net.parameters(), other.parameters()):
            np.testing.assert_array_equal(_numpy(a), _numpy(b))


def _saving(lib):
    class WithScale(lib.nn.Linear):
        """Saves one more entry and leaves its bias out."""

        def _save_to_state_dict(self, destination, prefix, keep_vars):
            super()._save_to_state_dict(destination, prefix, keep_vars)
            del destination[prefix + "bias"]
            destination[prefix + "scale"] = lib.tensor(2.0)

    return WithScale


def _error(fn):
    with pytest.raises(RuntimeError) as e:
        fn()
    return str(e.value).replace("ember.", "torch.")


def test_save_override_changes_the_entries_and_strict_load_reports_them():
    keys, errors = {}, {}
    for lib in (torch, ember):
        net = _net(lib, _saving(lib))
        sd = net.state_dict()
        keys[lib] = list(sd)
        errors[lib] = _error(lambda: net.load_state_dict(sd))  # noqa: B023
    assert keys[ember] == keys[torch] == ["0.weight", "0.scale", "2.0.weight", "2.0.scale"]
    assert errors[ember] == errors[torch]


def test_walk_errors_equal_torch():
    errors = {}
    for lib in (torch, ember):
        net = _net(lib)
        sd = dict(net.state_dict())
        sd["2.0.weight"] = lib.zeros(3, 3)
        sd["2.nope"] = lib.zeros(1)
        sd["1.nope"] = lib.zeros(1)
        del sd["0.bias"]
        errors[lib] = _error(lambda: net.load_state_dict(sd))  # noqa: B023
    assert errors[ember] == errors[torch]
    assert "Unexpected key(s)" in errors[ember] and "size mismatch" in errors[ember]


def test_non_strict_walk_returns_the_same_keys():
    keys = {}
    for lib in (torch, ember):
        net = _net(lib)
        sd = dict(net.state_dict())
        sd["2.extra"] = lib.zeros(1)
        del sd["2.0.bias"]
        result = net.load_state_dict(sd, strict=False)
        keys[lib] = (result.missing_keys, result.unexpected_keys)
    assert keys[ember] == keys[torch]


def test_call_order_equals_torch():
    """Pre-hooks run inside each module's _load_from_state_dict, children after their parent,
    post-hooks after the children (torch's walk)."""
    orders = {}
    for lib in (torch, ember):
        events = []

        class Traced(lib.nn.Linear):
            def _load_from_state_dict(self, state_dict, prefix, *args):
                events.append(("load", prefix))  # noqa: B023 - called within the loop
                super()._load_from_state_dict(state_dict, prefix, *args)

        net = lib.nn.Sequential(Traced(2, 2), lib.nn.Sequential(Traced(2, 2)))
        for name, m in net.named_modules():
            m.register_load_state_dict_pre_hook(
                lambda mod, sd, prefix, *a, n=name: events.append(("pre", n, prefix))  # noqa: B023
            )
            m.register_load_state_dict_post_hook(
                lambda mod, keys, n=name: events.append(("post", n))  # noqa: B023
            )
        net.load_state_dict(net.state_dict())
        orders[lib] = events
    assert orders[ember] == orders[torch]


def test_batch_norm_fills_num_batches_tracked_only_for_old_versions():
    outcomes = {}
    for lib in (torch, ember):
        bn = lib.nn.BatchNorm2d(3)
        plain = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
        loaded_plain = bn.load_state_dict(plain)  # no metadata: an old state dict
        current = bn.state_dict()
        del current["num_batches_tracked"]  # version 2 says it should be there
        outcomes[lib] = (
            (loaded_plain.missing_keys, loaded_plain.unexpected_keys),
            _error(lambda: bn.load_state_dict(current)),  # noqa: B023
        )
    assert outcomes[ember] == outcomes[torch]


def test_assign_through_the_walk_keeps_the_given_tensors():
    net = _net(ember)
    sd = {k: ember.tensor(_numpy(v) + 1) for k, v in net.state_dict().items()}
    net.load_state_dict(sd, assign=True)
    assert net[0].weight.array is sd["0.weight"].array  # shares the given memory
    assert isinstance(net[0].weight, ember.nn.Parameter) and net[0].weight.requires_grad
