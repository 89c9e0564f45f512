"""Builds the classifier for a run from its config and the dataset's vocabularies."""

import ml_collections
from flax import nnx

from wikiart_jax.models import classifier


def build_model(config: ml_collections.ConfigDict, vocab) -> classifier.ArtClassifier:
  """A fresh ArtClassifier, its backbone loaded from `config.init_from` when set.

  Args:
    config: the run's config (model section and init_from are read).
    vocab: the dataset's `Vocabularies` (class counts and style order).
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
  return model
