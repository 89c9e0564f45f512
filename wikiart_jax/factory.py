"""Builds a run's model from its config, its vocabularies and its checkpoints.

The one place where the pure modules (models/) meet the checkpoint readers
(convert/): the backbone's architecture and weights come from `config.init_from`
when it is set, the caption decoder's from `model.caption_decoder.init_from`;
the heads start fresh. The caller's config is never written: the architecture
a checkpoint implies is applied to a copy (`model_config`).
"""

import dataclasses

import ml_collections
from flax import nnx

from wikiart_jax.convert import git as convert_git
from wikiart_jax.convert import gpt2 as convert_gpt2
from wikiart_jax.convert import hub
from wikiart_jax.convert import vit as convert_vit
from wikiart_jax.models import captioner as captioner_lib
from wikiart_jax.models import classifier
from wikiart_jax.text import tokenizer as tokenizer_lib


def caption_tokenizer(config: ml_collections.ConfigDict, vocab, workdir: str):
  """The captioner's tokenizer (the demo BPE is built once in the workdir)."""
  return tokenizer_lib.load_tokenizer(
      tokenizer_lib.tokenizer_source(config.data.caption, vocab, workdir))


def model_config(config: ml_collections.ConfigDict, *,
                 backbone_from: str | None = None) -> ml_collections.ConfigDict:
  """A copy of `config.model` with the architecture `backbone_from` implies.

  Args:
    config: the run's config.
    backbone_from: the backbone's checkpoint; None = `config.init_from`, '' = none
      (the config's own sizes).
  """
  source = config.init_from if backbone_from is None else backbone_from
  model = ml_collections.ConfigDict(config.model.to_dict())
  if source:
    # The checkpoint dictates the backbone's shape; the config follows it.
    for key, value in convert_vit.backbone_config_overrides(source).items():
      model[key] = value
  return model


def decoder_config(model: ml_collections.ConfigDict, vision_width: int, vocab_size: int):
  """The caption decoder's sizes: from `caption_decoder.init_from`'s config.json, else
  from the config (`models.captioner.decoder_config`)."""
  dec = model.caption_decoder
  if not dec.init_from:
    return captioner_lib.decoder_config(model, vision_width, vocab_size)
  hf = hub.read_config(hub.resolve(dec.init_from))
  dtype = str(model.dtype)
  if model.captioner == 'git':
    cfg = convert_git.config_from_hf(hf, dtype=dtype)
    # Only the projection's input width and epsilon are read from `vision`.
    cfg = dataclasses.replace(cfg, vision=dataclasses.replace(
        cfg.vision, hidden_size=vision_width, num_heads=1, mlp_dim=1))
  else:
    cfg = convert_gpt2.config_from_hf(hf, dtype=dtype)
  if cfg.vocab_size != vocab_size:
    raise ValueError(f'caption tokenizer has {vocab_size} tokens but {dec.init_from} '
                     f'expects {cfg.vocab_size}: use the checkpoint\'s tokenizer')
  return cfg


def build_captioner(model: ml_collections.ConfigDict, vision_width: int, vocab_size: int, *,
                    rngs: nnx.Rngs, label_classes=None) -> captioner_lib.Captioner | None:
  """The configured captioner (None for 'none'), its decoder loaded from `init_from`.

  A 'git' captioner loads every GIT key but the image tower's; a 'prefix'
  captioner loads the whole GPT-2 (the prefix MLP stays random).
  """
  kind = model.captioner
  if kind not in captioner_lib.KINDS:
    raise ValueError(f'config.model.captioner must be one of {captioner_lib.KINDS}, '
                     f'got {kind!r}')
  if kind == 'none':
    return None
  captioner = captioner_lib.Captioner(
      model, vision_width, vocab_size, rngs=rngs, label_classes=label_classes,
      decoder=decoder_config(model, vision_width, vocab_size))
  source = model.caption_decoder.init_from
  if source:
    folder = hub.resolve(source)
    if kind == 'git':
      convert_git.load_weights(captioner.decoder, folder, include=list(convert_git.DECODER_KEYS))
    else:
      convert_gpt2.load_weights(captioner.decoder, folder)
  return captioner


def build_model(config: ml_collections.ConfigDict, vocab, workdir: str = '', *,
                caption_vocab_size: int = 0,
                backbone_from: str | None = None) -> classifier.ArtClassifier:
  """A fresh ArtClassifier, with `.captioner` (None unless config.model.captioner).

  Args:
    config: the run's config (read, never written).
    vocab: the dataset's `Vocabularies` (class counts and style order).
    workdir: the run's folder (where the demo caption tokenizer lives).
    caption_vocab_size: the captioner's vocabulary size without loading its
      tokenizer (bench, random weights); 0 = the tokenizer's length.
    backbone_from: the backbone's checkpoint; None = `config.init_from`, '' = a
      random backbone of the config's own sizes (a checkpoint is restored over it).
  """
  source = config.init_from if backbone_from is None else backbone_from
  model_cfg = model_config(config, backbone_from=source)
  model = classifier.ArtClassifier(
      model_cfg, vocab.num_classes, style_names=list(vocab.style),
      rngs=nnx.Rngs(params=config.seed))
  if source:
    convert_vit.init_backbone_from(model, source)
  vocab_size = caption_vocab_size
  if model_cfg.captioner != 'none' and not vocab_size:
    if not workdir:
      raise ValueError('build_model: a captioner needs the workdir (its tokenizer lives there)')
    vocab_size = len(caption_tokenizer(config, vocab, workdir))
  # Parameters under 'captioner/...' train with the heads in every stage.
  model.captioner = build_captioner(
      model_cfg, model.backbone.config.hidden_size, vocab_size,
      rngs=nnx.Rngs(params=config.seed + 1), label_classes=dict(vocab.num_classes))
  return model
