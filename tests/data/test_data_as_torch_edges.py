"""ember.data where it differed from torch.utils.data 2.13 (found by fuzzing both side by
side): torch's warnings (an IterableDataset longer than the len() it reported, pin_memory
without an accelerator), RandomSampler's num_samples=True and its empty data_source, the
keys SubsetRandomSampler hands out, the classes of the refusals torch makes with ``assert``
(TensorDataset, ConcatDataset, ChainDataset) or by accident (a 0-d tensor, a float
num_replicas, string weights), and ConcatDataset passing an index on as given."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.utils.data as E


def _warned(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _stream(D, n: int, reported: int):
    class Stream(D.IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return reported

    return Stream()


@pytest.mark.parametrize("n,reported,batch_size", [(5, 3, None), (5, 3, 1), (7, 2, 2)])
def test_a_stream_longer_than_its_reported_length_warns_as_torch(n, reported, batch_size, torch):
    # torch warns once per batch past len(dataset) once len(loader) has read it (ember did not);
    # not when len() was not asked before the pass began (list() asks it after iter())
    counts = []
    for D in (E, torch.utils.data):
        loader = D.DataLoader(_stream(D, n, reported), batch_size=batch_size)
        silent = _warned(lambda loader=loader: list(loader))
        len(loader)
        msgs = _warned(lambda loader=loader: list(loader))
        assert all("was reported to be" in m for m in msgs)
        counts.append((len(silent), len(msgs)))
    assert counts[0] == counts[1] and counts[0][1] > 0


def test_the_length_warning_names_the_workers_as_torch(torch):
    msgs = []
    for D in (E, torch.utils.data):
        loader = D.DataLoader(_stream(D, 4, 4), batch_size=None, num_workers=2)
        len(loader)
        msgs.append(_warned(lambda loader=loader: list(loader)))
    assert len(msgs[0]) == len(msgs[1]) == 4  # each of the two workers streams all four
    assert all("IterableDataset replica at each worker" in m for m in msgs[0] + msgs[1])


@pytest.mark.skipif(ember.backend.ON_GPU, reason="torch's warning is for a machine without one")
@pytest.mark.parametrize(
    "kw", [{"pin_memory": True}, {"pin_memory": True, "pin_memory_device": "cuda"}]
)
def test_pin_memory_without_an_accelerator_warns_as_torch(kw, torch):
    if torch.accelerator.is_available():
        pytest.skip("torch has an accelerator here")
    for args in (kw, {"pin_memory_device": "cuda"}):  # each pass warns; a device alone does not
        msgs = [
            _warned(
                lambda D=D, a=args: [list(D.DataLoader([1, 2], batch_size=2, **a)) for _ in "ab"]
            )
            for D in (E, torch.utils.data)
        ]
        assert [m[:40] for m in msgs[0]] == [m[:40] for m in msgs[1]]


@pytest.mark.parametrize("n,replacement", [(1, False), (4, False), (4, True)])
def test_random_sampler_takes_num_samples_true_as_one_as_torch(n, replacement, torch):
    # torch's check is isinstance(num_samples, int), which a bool passes (ember refused it)
    for D in (E, torch.utils.data):
        s = D.RandomSampler(range(n), replacement=replacement, num_samples=True)
        drawn = list(s)
        assert len(s) == len(drawn) == 1 and 0 <= drawn[0] < n


@pytest.mark.parametrize("replacement,cls", [(True, RuntimeError), (False, ZeroDivisionError)])
def test_random_sampler_of_an_empty_source_refuses_with_torchs_class(replacement, cls, torch):
    for D in (E, torch.utils.data):
        s = D.RandomSampler([], replacement=replacement, num_samples=3)
        with pytest.raises(cls):
            list(s)
    with pytest.raises(ValueError):  # what ember raised before
        list(E.RandomSampler([], replacement=replacement, num_samples=3))


@pytest.mark.parametrize("keys", [[(1, 2), (3, 4), (5, 6)], [[1, 2], [3]], [[0, 1], [2, 3]]])
def test_subset_random_sampler_hands_out_its_keys_as_given_as_torch(keys, torch):
    # torch yields indices[i]; ember refused keys that are not a 1-d array of scalars
    for D in (E, torch.utils.data):
        drawn = list(D.SubsetRandomSampler(keys))
        assert sorted(map(repr, drawn)) == sorted(map(repr, keys))


def test_a_dataset_keyed_by_tuples_loads_through_subset_random_sampler_as_torch(torch):
    data = {(1, 2): 5.0, (3, 4): 6.0}
    batches = []
    for D in (E, torch.utils.data):
        sampler = D.SubsetRandomSampler(list(data))
        (batch,) = list(D.DataLoader(data, sampler=sampler, batch_size=2))
        batches.append(sorted(batch.tolist()))
    assert batches[0] == batches[1] == [5.0, 6.0]


def _datasets(lib):
    D = lib.utils.data

    class Stream(D.IterableDataset):
        def __iter__(self):
            return iter(range(2))

    return [
        ("tensors of two lengths", lambda: D.TensorDataset(lib.zeros(3), lib.zeros(2))),
        ("an empty list of parts", lambda: D.ConcatDataset([])),
        ("a stream in a concatenation", lambda: D.ConcatDataset([[1, 2], Stream()])),
        ("a list in a chain", lambda: list(D.ChainDataset([Stream(), [1, 2]]))),
        ("the length of a chain with a list", lambda: len(D.ChainDataset([[1, 2]]))),
    ]


@pytest.mark.parametrize("k", range(5))
def test_refusals_torch_asserts_are_assertion_errors(refused_alike, k):
    refused_alike(_datasets, k, AssertionError)
    with pytest.raises(ValueError if k < 2 else TypeError):  # ember's class before
        _datasets(ember)[k][1]()


def _no_sample_dim(lib):
    D = lib.utils.data
    return [
        ("no tensor", lambda: len(D.TensorDataset())),  # torch: len() reads tensors[0]
        ("a 0-d tensor", lambda: D.TensorDataset(lib.tensor(1.0))),
        ("a 0-d tensor after a 1-d one", lambda: D.TensorDataset(lib.zeros(2), lib.tensor(1.0))),
    ]


@pytest.mark.parametrize("k", range(3))
def test_tensor_dataset_without_a_sample_dim_is_an_index_error_as_torch(refused_alike, k):
    refused_alike(_no_sample_dim, k, IndexError)
    with pytest.raises(ValueError):  # ember's class before (a 0-d tensor: len()'s TypeError)
        _no_sample_dim(ember)[k][1]()


@pytest.mark.parametrize("num_replicas", [2.0, np.float64(3)])
def test_distributed_sampler_refuses_a_float_num_replicas_with_torchs_class(num_replicas, torch):
    # torch takes it and fails slicing with it (TypeError); ember refuses it when given
    with pytest.raises(TypeError):
        list(torch.utils.data.DistributedSampler(range(4), num_replicas=num_replicas, rank=0))
    with pytest.raises(TypeError):
        E.DistributedSampler(range(4), num_replicas=num_replicas, rank=0)
    with pytest.raises(ValueError):  # ember's class before
        E.DistributedSampler(range(4), num_replicas=num_replicas, rank=0)


def test_distributed_sampler_takes_num_replicas_true_as_one_as_torch(torch):
    for D in (E, torch.utils.data):
        assert list(D.DistributedSampler(range(3), num_replicas=True, rank=0, shuffle=False)) == [
            0, 1, 2
        ]  # fmt: skip


def test_weighted_sampler_refuses_string_weights_with_torchs_class(torch):
    for D in (E, torch.utils.data):
        with pytest.raises(TypeError):
            D.WeightedRandomSampler("ab", 1)


@pytest.mark.parametrize("index", [2.0, "1"])
def test_concat_dataset_passes_the_index_on_as_given_as_torch(index, torch):
    # ember converted it with int(), so 2.0 and "1" read list items torch's lists refuse
    for D in (E, torch.utils.data):
        with pytest.raises(TypeError):
            D.ConcatDataset([[1, 2], [3, 4, 5]])[index]
    for lib in (ember, torch):  # 0-d tensors and NumPy integers index the parts as they are
        ds = lib.utils.data.ConcatDataset([[1, 2], [3, 4, 5]])
        assert [ds[lib.tensor(3)], ds[lib.tensor(-1)], ds[np.int64(2)]] == [4, 5, 3]


@pytest.mark.parametrize(
    "make", [lambda lib: [1, lib.tensor([5])], lambda lib: [1, lib.tensor([5.0])],
             lambda lib: [1.5, lib.tensor([[5]])],
             lambda lib: [True, lib.tensor([[2]], dtype=lib.int8)],
             lambda lib: [np.int32(1), lib.tensor([2], dtype=lib.int64)]],
)  # fmt: skip
def test_a_number_led_batch_reads_a_one_element_tensor_as_its_scalar_as_torch(make, torch):
    # torch.tensor([1, tensor([5])]) is tensor([1, 5]); ember refused any tensor with a dim
    ours = E.default_collate(make(ember))
    theirs = torch.utils.data.default_collate(make(torch))
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("shape", [(2,), (0,), (1, 2)])
def test_a_number_led_batch_refuses_a_tensor_of_several_elements_as_torch(shape, torch):
    with pytest.raises(ValueError, match="only one element tensors"):
        torch.utils.data.default_collate([1, torch.zeros(shape)])
    with pytest.raises(ValueError, match="only one element tensors"):
        E.default_collate([1, ember.zeros(shape)])
    with pytest.raises(TypeError):  # ember's class before
        E.default_collate([1, ember.zeros(shape)])


def test_default_convert_leaves_a_masked_array_as_torch(torch):
    # torch converts only types of the numpy module itself; ember dropped the mask
    sample = {"x": np.ma.masked_array([1.0, 2.0], mask=[False, True])}
    for D in (E, torch.utils.data):
        out = D.default_convert(sample)["x"]
        assert type(out) is np.ma.MaskedArray and out.mask.tolist() == [False, True]


@pytest.mark.parametrize(
    "kw", [{"batch_size": 2}, {"batch_size": None}, {"batch_size": 2, "drop_last": True}]
)
def test_a_pass_answers_len_as_torch(kw, torch):
    # torch's iterator has __len__; ember's pass was a bare generator
    lengths = []
    for D in (E, torch.utils.data):
        it = iter(D.DataLoader(list(range(5)), **kw))
        next(it)
        lengths.append(len(it))
        with pytest.raises(TypeError):  # a stream: torch's endless sampler has no length
            len(iter(D.DataLoader(_stream(D, 3, 3))))
    assert lengths[0] == lengths[1]
    with warnings.catch_warnings(record=True) as caught:  # warnings still name this line
        warnings.simplefilter("always")
        for _ in E.DataLoader([1], pin_memory=True):
            pass
    assert caught and all(w.filename == __file__ for w in caught)


def test_an_iterable_dataset_without_iter_cannot_be_made_as_torch(torch):
    for D in (E, torch.utils.data):

        class Forgot(D.IterableDataset):
            pass

        with pytest.raises(TypeError, match="abstract"):
            Forgot()


def test_indexing_an_iterable_dataset_is_not_implemented_as_torch(torch):
    for D in (E, torch.utils.data):
        with pytest.raises(NotImplementedError):
            D.ChainDataset([])[0]
    with pytest.raises(TypeError):  # ember's class before
        E.ChainDataset([])[0]


def test_concat_dataset_answers_the_old_misspelt_name_as_torch(torch):
    for D in (E, torch.utils.data):
        with pytest.warns(FutureWarning, match="renamed to `cumulative_sizes`"):
            assert D.ConcatDataset([[1], [2, 3]]).cummulative_sizes == [1, 3]


@pytest.mark.parametrize("seed,epoch", [(1.5, 0), (np.int64(3), 0)])
def test_distributed_sampler_refuses_a_seed_that_is_not_an_int_as_torch(seed, epoch, torch):
    # torch's manual_seed refuses seed + epoch when it iterates; ember took int() of the seed
    cls = TypeError if isinstance(seed, np.integer) else RuntimeError
    for D in (E, torch.utils.data):
        s = D.DistributedSampler(range(5), num_replicas=2, rank=0, seed=seed)
        s.set_epoch(epoch)
        with pytest.raises(cls):
            list(s)


def _graph_grads(lib, kw: dict, wrap: str) -> list:
    D = lib.utils.data
    x, y = lib.arange(6.0, requires_grad=True), lib.arange(6)
    ds = D.TensorDataset(x, y)
    if wrap == "subset":
        ds = D.Subset(ds, [5, 0, 2])
    elif wrap == "concat":
        ds = D.ConcatDataset([D.TensorDataset(lib.ones(3, requires_grad=True), y[:3]), ds])
    if "sampler" in kw:  # the last sample (x's), then two of the first
        kw = {**kw, "sampler": [len(ds) - 1, 0, 2, 2]}
    total = 0
    for xb, _ in D.DataLoader(ds, **kw):
        total = total + (xb * xb).sum()
    total.backward()
    return x.grad.tolist()


@pytest.mark.parametrize("wrap", ["plain", "subset", "concat"])
@pytest.mark.parametrize(
    "kw", [{"batch_size": 2}, {"batch_size": None}, {"batch_size": 4, "sampler": "last, 0, 2, 2"}]
)
def test_batches_of_a_tensor_that_requires_grad_stay_in_its_graph_as_torch(wrap, kw, torch):
    # ember's TensorDataset kept arrays only: samples and batches left the graph
    assert _graph_grads(ember, kw, wrap) == _graph_grads(torch, kw, wrap)


def test_tensor_dataset_keeps_the_tensors_it_was_given_as_torch(torch):
    for lib in (ember, torch):
        x = lib.arange(3.0, requires_grad=True)
        ds = lib.utils.data.TensorDataset(x, lib.zeros(3))
        assert ds.tensors[0] is x and ds[1][0].requires_grad
        batch = lib.utils.data.default_collate([x[0], x[1]])
        assert batch.requires_grad  # torch.stack keeps the graph


def test_weighted_sampler_refuses_none_weights_with_torchs_class(torch):
    for D in (E, torch.utils.data):
        with pytest.raises(TypeError):
            D.WeightedRandomSampler(None, 2)


def test_more_workers_than_cpus_warns_as_torch(torch):
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    counts = []
    for D in (E, torch.utils.data):
        loader = D.DataLoader([0, 1], num_workers=cpus + 1)
        msgs = _warned(lambda D=D: D.DataLoader([0, 1], num_workers=cpus + 1))
        msgs += _warned(lambda loader=loader: list(loader))  # and again at each pass
        assert all("worker" in m and f"is {cpus}," in m for m in msgs)
        counts.append(len(msgs))
    assert counts[0] == counts[1] == 2


@pytest.mark.parametrize("batch_size", [None, 2])
def test_a_loader_over_a_stream_has_torchs_placeholder_samplers(batch_size, torch):
    # ember left sampler and batch_sampler None; torch's are an endless sampler of None and a
    # BatchSampler over it when batching
    seen = []
    for D in (E, torch.utils.data):
        loader = D.DataLoader(_stream(D, 3, 3), batch_size=batch_size)
        assert next(iter(loader.sampler)) is None
        with pytest.raises(TypeError):
            len(loader.sampler)
        bs = loader.batch_sampler
        seen.append(None if bs is None else (type(bs).__name__, bs.batch_size, next(iter(bs))))
        loader.check_worker_number_rationality()  # torch's public check, silent here
    assert seen[0] == seen[1]
