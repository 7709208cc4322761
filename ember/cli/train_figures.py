"""The figures ``ember train`` draws into a run's folder once a model has trained (``ember
report`` shows them with their captions): a convolutional classifier's feature maps and
filters, a language model's gates and gradient through time, or its attention maps.
"""

from __future__ import annotations

from pathlib import Path


def draw_language_figures(model, vocab, run_dir: Path, val_ids) -> None:
    """After a language model has trained, over the start of the validation text, into the
    run's figures with captions (``ember report`` shows them; ``ember inspect RUN --text``
    draws the same for any text): a recurrent model's gates at every one of the first 64
    characters and the gradient through time of predicting the 65th; a Transformer's
    attention maps over the first 64 characters (at most its block size)."""
    from ember.diagnose.attention_maps import attention_modules, draw_attention_maps
    from ember.diagnose.recurrent_text import draw_recurrent_inspection, recurrent_modules

    from .inspect import caption_run_figures

    figures = Path(run_dir) / "figures"
    ids = [int(i) for i in val_ids[:65]]
    if recurrent_modules(model) and len(ids) >= 2:
        out, described = figures / "gates-validation", {}
        paths = draw_recurrent_inspection(
            model, ids, out, labels=vocab.decode(ids), captions=described
        )
        caption_run_figures(run_dir, described, "the start of the validation text")
        print(
            f"gates over the first {len(ids) - 1} validation characters: {out}/ ({len(paths)} PNGs)"
        )
    if attention_modules(model) and ids:
        ids = ids[: min(64, getattr(model, "block_size", 64))]
        out, described = figures / "attention-validation", {}
        paths = draw_attention_maps(
            model.eval(), ids, out, labels=list(vocab.decode(ids)), captions=described
        )
        caption_run_figures(run_dir, described, "the start of the validation text")
        print(
            f"attention over the first {len(ids)} validation characters: {out}/ ({len(paths)} PNGs)"
        )


def draw_feature_maps(model, test_set, run_dir) -> None:
    """After a convolutional classifier has trained: the feature maps of every conv layer and
    the first layer's filters for the first test example, into the run's figures (``ember
    report`` shows them; ``ember inspect RUN --index N`` draws them for any example)."""
    from ember.diagnose.feature_maps import conv_layers, save_feature_maps

    from .inspect import caption_run_figures, dataset_example

    if not conv_layers(model) or not len(test_set):
        return
    x, label = dataset_example(test_set, 0)
    figures = Path(run_dir) / "figures"
    out = figures / f"feature-maps-{label}"
    described = {}
    paths = save_feature_maps(model.eval(), x, out, captions=described)
    caption_run_figures(run_dir, described, "the first test example")
    print(f"feature maps of the first test example: {out}/ ({len(paths)} PNGs)")
