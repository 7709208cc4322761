"""Hyperparameter summaries for TensorBoard's HParams plugin (torch's ``summary.hparams``).

Three summaries, each a value with no data and ``SummaryMetadata`` for the "hparams" plugin
whose content is an ``HParamsPluginData`` (version=1, experiment=2, session_start_info=3,
session_end_info=4):

    Experiment        hparam_infos=4 (HParamInfo: name=1, type=4, domain_discrete=5)
                      metric_infos=5 (MetricInfo: name=1 → MetricName: tag=2)
    SessionStartInfo  hparams=1 (map<string, google.protobuf.Value>: entries key=1, value=2)
    SessionEndInfo    status=1 (STATUS_SUCCESS = 1)

``google.protobuf.Value``: number_value=2 (double), string_value=3, bool_value=4;
``ListValue``: values=1.
"""

from __future__ import annotations

from . import proto
from .summary import make_np

EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"
DATA_TYPE_STRING, DATA_TYPE_BOOL, DATA_TYPE_FLOAT64 = 1, 2, 3
STATUS_SUCCESS = 1


def _value(v) -> tuple[bytes, int]:
    """A ``google.protobuf.Value`` for an hparam, and its hparams DataType."""
    if isinstance(v, bool):  # before numbers: bool is an int in Python
        return proto.f_varint(4, v), DATA_TYPE_BOOL
    if isinstance(v, str):
        return proto.f_bytes(3, v), DATA_TYPE_STRING
    try:
        a = make_np(v, "an hparam")
    except TypeError:
        a = None
    if a is None or a.size != 1 or a.dtype.kind not in "biuf":
        raise ValueError(
            f"an hparam value must be an int, float, str, bool or one-element Tensor, got {v!r}"
        )
    if a.dtype.kind == "b":
        return proto.f_varint(4, bool(a.reshape(()))), DATA_TYPE_BOOL
    return proto.f_double(2, float(a.reshape(()))), DATA_TYPE_FLOAT64


def _plugin_summary(tag: str, field: int, message: bytes) -> bytes:
    content = proto.f_varint(1, 0) + proto.f_bytes(field, message)  # version 0, as torch
    meta = proto.summary_metadata("hparams", content)
    return proto.summary(proto.summary_value(tag, metadata=meta))


def hparams(
    hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None
) -> tuple[bytes, bytes, bytes]:
    """The experiment, session-start and session-end summaries for one run's hyperparameters
    and the metric tags it reports; ``hparam_domain_discrete`` lists each hparam's choices."""
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("hparam_dict and metric_dict must be dicts")
    domains = hparam_domain_discrete or {}
    for k, choices in domains.items():
        if k not in hparam_dict:
            raise ValueError(f"hparam_domain_discrete names {k!r}, which is not in hparam_dict")
        if not isinstance(choices, (list, tuple)):
            raise TypeError(f"hparam_domain_discrete[{k!r}] must be a list of values")
    infos, entries = b"", b""
    for name, v in hparam_dict.items():
        if v is None:
            continue
        value, dtype = _value(v)
        entries += proto.f_bytes(1, proto.f_bytes(1, name) + proto.f_bytes(2, value))
        info = proto.f_bytes(1, name) + proto.f_varint(4, dtype)
        if name in domains:
            listed = b"".join(proto.f_bytes(1, _value(d)[0]) for d in domains[name])
            info += proto.f_bytes(5, listed)
        infos += proto.f_bytes(4, info)
    metrics = b"".join(
        proto.f_bytes(5, proto.f_bytes(1, proto.f_bytes(2, tag))) for tag in metric_dict
    )
    return (
        _plugin_summary(EXPERIMENT_TAG, 2, infos + metrics),
        _plugin_summary(SESSION_START_INFO_TAG, 3, entries),
        _plugin_summary(SESSION_END_INFO_TAG, 4, proto.f_varint(1, STATUS_SUCCESS)),
    )
