"""Builds the model of a run from its config and the dataset's vocabularies."""

import ml_collections
from flax import nnx

from wikiart_jax.models import captioner as captioner_lib
from wikiart_jax.models import classifier


def caption_tokenizer(config: ml_collections.ConfigDict, vocab, workdir: str):
  """The captioner's tokenizer (built once in the workdir for the demo BPE)."""
  from wikiart_jax.data import captions  # pylint: disable=g-import-not-at-top
  from wikiart_jax.data import tokenizer  # pylint: disable=g-import-not-at-top
  return tokenizer.load_tokenizer(
      captions.tokenizer_source(config.data.caption, vocab, workdir))


def build_model(config: ml_collections.ConfigDict, vocab, workdir: str = '', *,
                caption_vocab_size: int = 0) -> classifier.ArtClassifier:
  """A fresh ArtClassifier, with `.captioner` (None unless config.model.captioner).

  The backbone is loaded from `config.init_from` when set, the caption decoder
  from `config.model.caption_decoder.init_from`; the heads start fresh.

  Args:
    config: the run's config (model section and init_from are read).
    vocab: the dataset's `Vocabularies` (class counts and style order).
    workdir: the run's folder (where the demo caption tokenizer lives).
    caption_vocab_size: the captioner's vocabulary size without loading its
      tokenizer (bench, random weights); 0 = the tokenizer's length.
  """
  if config.init_from:
    # The checkpoint dictates the backbone's shape; the config follows it.
    from wikiart_jax.convert import hub  # pylint: disable=g-import-not-at-top
    for key, value in hub.backbone_config_overrides(config.init_from).items():
      config.model[key] = value
  model = classifier.ArtClassifier(
      config.model, vocab.num_classes, style_names=list(vocab.style),
      rngs=nnx.Rngs(params=config.seed))
  if config.init_from:
    from wikiart_jax.convert import hub  # pylint: disable=g-import-not-at-top
    hub.init_backbone_from(model, config.init_from)
  vocab_size = caption_vocab_size
  if config.model.captioner != 'none' and not vocab_size:
    if not workdir:
      raise ValueError('build_model: a captioner needs the workdir (its tokenizer lives there)')
    vocab_size = len(caption_tokenizer(config, vocab, workdir))
  # Parameters under 'captioner/...' train with the heads in every stage.
  model.captioner = captioner_lib.build_captioner(
      config.model, model.backbone.config.hidden_size, vocab_size,
      rngs=nnx.Rngs(params=config.seed + 1), label_classes=dict(vocab.num_classes))
  return model
