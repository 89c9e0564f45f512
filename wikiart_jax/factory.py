"""Builds a run's model from its config, its vocabularies and its checkpoints.

The one place where the pure modules (models/) meet the checkpoint readers
(convert/): the backbone's architecture and weights come from `config.init_from`
when it is set, the caption decoder's from `model.caption_decoder.init_from`;
the heads start fresh. A BLIP-2 captioner (`model.captioner='blip2'`) brings its
own image tower: with `config.init_from` empty, the backbone is the one of
`caption_decoder.init_from`, and so is the caption tokenizer. The caller's config is never written: the architecture
a checkpoint implies is applied to a copy (`model_config`).

Training writes a `RunRecord` into its workdir (`run.json`): the model's
architecture as trained, the caption decoder's sizes and the backbone's pixel
normalisation. Restoring (`restore_model`: eval, predict, serve, embed) builds the
model from the record alone, so it never reads `init_from` or the hub again.
"""

import dataclasses
import json
import os
from typing import Any

from absl import logging
import ml_collections
from flax import nnx

from wikiart_jax.convert import assign
from wikiart_jax.convert import backbone as convert_backbone
from wikiart_jax.convert import blip2 as convert_blip2
from wikiart_jax.convert import git as convert_git
from wikiart_jax.convert import gpt2 as convert_gpt2
from wikiart_jax.convert import hub
from wikiart_jax.convert import preprocessing
from wikiart_jax.convert import vocab_resize
from wikiart_jax.core import NUM_PERIOD_BINS, PERIOD, TAGS
from wikiart_jax.data import augment
from wikiart_jax.models import captioner as captioner_lib
from wikiart_jax.models import classifier
from wikiart_jax.models.blip2 import Blip2Config
from wikiart_jax.models import lm_adapters
from wikiart_jax.models.blip2_captioner import Blip2Captioner
from wikiart_jax.models.git import GitConfig
from wikiart_jax.models.gpt2 import GPT2Config
from wikiart_jax.models.opt import OPTConfig
from wikiart_jax.models.qformer import QFormerConfig
from wikiart_jax.models.t5 import T5Config
from wikiart_jax.models.vit import ViT, ViTConfig
from wikiart_jax.text import tokenizer as tokenizer_lib

RECORD_FILE = 'run.json'
# config.model fields that are how to compute, not what was trained: a restored
# run takes them from the current config (bf16 on a GPU, float32 on a CPU ...).
_NUMERICS = ('dtype', 'attention', 'remat')


@dataclasses.dataclass
class RunRecord:
  """What a trained workdir needs to rebuild its model, saved as `<workdir>/run.json`.

  Attributes:
    model: config.model as trained, the backbone checkpoint's architecture applied.
    normalization: the backbone's pixel statistics and resize filter.
    decoder: the caption decoder's sizes ({'kind', 'fields'}), or None.
    caption_vocab_size: the captioner's vocabulary size (0 without a captioner).
    data_source: what the run trained on (`config.data.source`: 'synthetic' is the
      demo's procedural images; '' for runs recorded before this field).
  """
  model: dict[str, Any]
  normalization: augment.Normalization
  decoder: dict[str, Any] | None = None
  caption_vocab_size: int = 0
  data_source: str = ''

  @property
  def synthetic(self) -> bool:
    """Whether the run trained on the demo's procedural images, not on paintings."""
    return self.data_source == 'synthetic'

  def save(self, workdir: str) -> None:
    payload = {'model': self.model, 'normalization': self.normalization.to_dict(),
               'decoder': self.decoder, 'caption_vocab_size': self.caption_vocab_size,
               'data_source': self.data_source}
    tmp = os.path.join(workdir, RECORD_FILE + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
      json.dump(payload, f, indent=1, ensure_ascii=False)
    os.replace(tmp, os.path.join(workdir, RECORD_FILE))

  @classmethod
  def load(cls, workdir: str) -> 'RunRecord':
    path = os.path.join(workdir, RECORD_FILE)
    with open(path, encoding='utf-8') as f:
      payload = json.load(f)
    return cls(model=payload['model'],
               normalization=augment.Normalization.from_dict(payload['normalization']),
               decoder=payload.get('decoder'),
               caption_vocab_size=int(payload.get('caption_vocab_size', 0)),
               data_source=str(payload.get('data_source', '')))


def _decoder_to_dict(cfg) -> dict[str, Any]:
  if isinstance(cfg, Blip2Config):
    return {'kind': 'blip2', 'family': cfg.family, 'fields': dataclasses.asdict(cfg)}
  kind = 'git' if isinstance(cfg, GitConfig) else 'prefix'
  return {'kind': kind, 'fields': dataclasses.asdict(cfg)}


def _decoder_from_dict(d: dict[str, Any]):
  fields = dict(d['fields'])
  if d['kind'] == 'blip2':
    text = OPTConfig if d['family'] == 'opt' else T5Config
    return Blip2Config(**{**fields, 'vision': ViTConfig(**fields['vision']),
                          'qformer': QFormerConfig(**fields['qformer']),
                          'text': text(**fields['text'])})
  if d['kind'] == 'git':
    return GitConfig(**{**fields, 'vision': ViTConfig(**fields['vision'])})
  return GPT2Config(**fields)


def _with_numerics(decoder, model: ml_collections.ConfigDict):
  """The decoder's sizes computing as `model` says now (dtype; remat for BLIP-2's LM)."""
  dtype = str(model.dtype)
  if isinstance(decoder, Blip2Config):
    return dataclasses.replace(
        decoder, qformer=dataclasses.replace(decoder.qformer, dtype=dtype),
        text=dataclasses.replace(decoder.text, dtype=dtype, remat=str(model.remat)))
  return dataclasses.replace(decoder, dtype=dtype)


def backbone_source(config: ml_collections.ConfigDict, backbone_from: str | None = None) -> str:
  """Where the backbone comes from: `backbone_from`, else `config.init_from`, else a
  BLIP-2 captioner's own checkpoint (its Q-Former reads that tower's tokens)."""
  if backbone_from is not None:
    return backbone_from
  if not config.init_from and config.model.captioner == 'blip2':
    return config.model.caption_decoder.init_from
  return config.init_from


def extra_heads(model: ml_collections.ConfigDict, vocab) -> dict[str, int]:
  """The sizes of the tag and period heads (0 = none): a tag head needs both
  `model.tags_head` and a dataset with tag targets (`vocab.tags`). A run recorded
  before these heads existed has neither field: it gets neither head."""
  return {'num_tags': len(vocab.tags) if model.get('tags_head', False) else 0,
          'period_bins': NUM_PERIOD_BINS if model.get('period_head', False) else 0}


def label_classes(model: ml_collections.ConfigDict, vocab) -> dict[str, int]:
  """What the captioner's label tokens read: each class head's size and, with
  `caption_decoder.content_tokens` (absent in older runs: off), the tag and period
  heads' when the model has them."""
  out = dict(vocab.num_classes)
  if model.caption_decoder.get('content_tokens', False):
    heads = extra_heads(model, vocab)
    out.update({key: n for key, n in ((TAGS, heads['num_tags']),
                                      (PERIOD, heads['period_bins'])) if n})
  return out


def normalization(config: ml_collections.ConfigDict,
                  backbone_from: str | None = None) -> augment.Normalization:
  """The pixel normalisation of the backbone's checkpoint; ImageNet's from scratch."""
  source = backbone_source(config, backbone_from)
  return preprocessing.normalization_of(source) if source else augment.IMAGENET


def caption_source(config: ml_collections.ConfigDict, vocab, workdir: str) -> str:
  """The run's caption tokenizer folder (`tokenizer_source`): `data.caption.tokenizer`,
  else a BLIP-2 captioner's own tokenizer, else the demo BPE, copied into the workdir once."""
  caption = config.data.caption
  if not caption.tokenizer and config.model.captioner == 'blip2':
    caption = ml_collections.ConfigDict(caption.to_dict())
    caption.tokenizer = config.model.caption_decoder.init_from
  return tokenizer_lib.tokenizer_source(caption, vocab, workdir)


def caption_tokenizer(config: ml_collections.ConfigDict, vocab, workdir: str):
  """The captioner's tokenizer (the demo BPE is built once in the workdir)."""
  return tokenizer_lib.load_tokenizer(caption_source(config, vocab, workdir))


def model_config(config: ml_collections.ConfigDict, *,
                 backbone_from: str | None = None) -> ml_collections.ConfigDict:
  """A copy of `config.model` with the architecture `backbone_from` implies.

  Args:
    config: the run's config.
    backbone_from: the backbone's checkpoint; None = `config.init_from`, '' = none
      (the config's own sizes).
  """
  source = backbone_source(config, backbone_from)
  model = ml_collections.ConfigDict(config.model.to_dict())
  if source:
    # The checkpoint dictates the backbone's shape; the config follows it.
    for key, value in convert_backbone.backbone_config_overrides(source).items():
      model[key] = value
  return model


def decoder_config(model: ml_collections.ConfigDict, vision_width: int, vocab_size: int):
  """The caption decoder's sizes: from `caption_decoder.init_from`'s config.json (its
  vocabulary the run tokenizer's: `build_captioner` resizes the token rows), else from
  the config (`models.captioner.decoder_config`)."""
  dec = model.caption_decoder
  if model.captioner == 'blip2':
    return convert_blip2.captioner_config(
        dec.init_from, dec.architecture, tokenizer_size=vocab_size, vision_width=vision_width,
        dtype=str(model.dtype), lm_param_dtype=dec.lm_dtype, dropout=float(dec.dropout),
        remat=str(model.remat))
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
  return dataclasses.replace(cfg, vocab_size=vocab_size)


def _pieces(folder: str, tokenizer, vocab_size: int, checkpoint_vocab: int):
  """How to make the checkpoint's token rows for the run's tokenizer: None when it is
  the checkpoint's own, else `vocab_resize.piece_ids` against the checkpoint's."""
  try:
    own = tokenizer_lib.load_tokenizer(folder)
  except (OSError, ValueError):
    own = None
  if own is not None and len(own) != checkpoint_vocab:
    own = None  # not the tokenizer of these weights (transformers makes an empty one)
  if tokenizer is None or (own is not None and vocab_resize.same_vocabulary(own, tokenizer)):
    if vocab_size != checkpoint_vocab:
      raise ValueError(f'caption tokenizer has {vocab_size} tokens but {folder} expects '
                       f'{checkpoint_vocab}')
    return None
  if own is None:
    raise ValueError(f'{folder} has no tokenizer of its {checkpoint_vocab} tokens: its token '
                     'rows cannot be mapped onto the caption tokenizer (data.caption.tokenizer)')
  return vocab_resize.piece_ids(own, tokenizer)


def build_captioner(model: ml_collections.ConfigDict, vision_width: int, vocab_size: int, *,
                    rngs: nnx.Rngs, label_classes=None, decoder=None,
                    tokenizer=None, tag_threshold: float = 0.5) -> captioner_lib.Captioner | None:
  """The configured captioner (None for 'none'), its decoder loaded from `init_from`.

  A 'git' captioner loads every GIT key but the image tower's; a 'prefix'
  captioner loads the whole GPT-2 (the prefix MLP stays random); a 'blip2' one
  every BLIP-2 key but the tower's, then gets its LoRA adapters / int8 weights. When
  `tokenizer` (the run's caption tokenizer) is not a GIT or GPT-2 checkpoint's own, the
  word embeddings and the LM head are resized to it, each new row the mean of the
  checkpoint's rows of the same text's pieces (convert/vocab_resize.py; a BLIP-2
  captioner keeps its checkpoint's tokenizer). With `decoder` (the sizes a run
  recorded) nothing is read: the weights come from a checkpoint.
  """
  kind = model.captioner
  if kind not in captioner_lib.KINDS:
    raise ValueError(f'config.model.captioner must be one of {captioner_lib.KINDS}, '
                     f'got {kind!r}')
  if kind == 'none':
    return None
  restoring = decoder is not None
  decoder = decoder or decoder_config(model, vision_width, vocab_size)
  if kind == 'blip2':
    captioner = Blip2Captioner(decoder, rngs=rngs)
  else:
    captioner = captioner_lib.Captioner(model, vision_width, vocab_size, rngs=rngs,
                                        label_classes=label_classes, decoder=decoder,
                                        tag_threshold=tag_threshold)
  source = model.caption_decoder.init_from
  if source and not restoring:
    folder = hub.resolve(source)
    if kind == 'blip2':
      convert_blip2.load_decoder_weights(captioner.decoder, folder)
    else:
      pieces = _pieces(folder, tokenizer, vocab_size,
                       int(hub.read_config(folder).get('vocab_size', vocab_size)))
      if kind == 'git':
        convert_git.load_weights(captioner.decoder, folder,
                                 include=list(convert_git.DECODER_KEYS), pieces=pieces)
      else:
        convert_gpt2.load_weights(captioner.decoder, folder, pieces=pieces)
  dec = model.caption_decoder
  if kind == 'blip2' and (dec.get('lora_rank', 0) or dec.get('int8', False)):
    # After the weights: int8 rounds what it finds (a restored run's come over it).
    captioner.decoder.language_model = lm_adapters.adapt(
        captioner.decoder.language_model, captioner.family, lora_rank=int(dec.lora_rank),
        lora_alpha=float(dec.lora_alpha), int8=bool(dec.int8))
  return captioner


def build_with_record(config: ml_collections.ConfigDict, vocab, workdir: str = '', *,
                      caption_vocab_size: int = 0, backbone_from: str | None = None
                      ) -> tuple[classifier.ArtClassifier, RunRecord]:
  """A fresh ArtClassifier (with `.captioner`, None unless config.model.captioner)
  and the record that rebuilds it.

  Args:
    config: the run's config (read, never written).
    vocab: the dataset's `Vocabularies` (class counts and style order).
    workdir: the run's folder (where the caption tokenizer lives).
    caption_vocab_size: the captioner's vocabulary size without loading its
      tokenizer (bench, random weights); 0 = the tokenizer's length.
    backbone_from: the backbone's checkpoint; None = `config.init_from`, '' = a
      random backbone of the config's own sizes.
  """
  source = backbone_source(config, backbone_from)
  model_cfg = model_config(config, backbone_from=source)
  model = classifier.ArtClassifier(
      model_cfg, vocab.num_classes, style_names=list(vocab.style),
      **extra_heads(model_cfg, vocab), rngs=nnx.Rngs(params=config.seed))
  if source:
    convert_backbone.init_backbone_from(model, source)
  vocab_size, tokenizer = caption_vocab_size, None
  if model_cfg.captioner != 'none' and not vocab_size:
    if not workdir:
      raise ValueError('build_model: a captioner needs the workdir (its tokenizer lives there)')
    tokenizer = caption_tokenizer(config, vocab, workdir)
    vocab_size = len(tokenizer)
  # Parameters under 'captioner/...' train with the heads in every stage.
  model.captioner = build_captioner(
      model_cfg, model.backbone.config.hidden_size, vocab_size,
      rngs=nnx.Rngs(params=config.seed + 1), label_classes=label_classes(model_cfg, vocab),
      tokenizer=tokenizer, tag_threshold=float(config.describe.tag_probable))
  if isinstance(model.captioner, Blip2Captioner):
    model.captioner.check_length(config.data.caption.max_len)  # before anything trains
  record = RunRecord(
      model=model_cfg.to_dict(), normalization=normalization(config, source),
      decoder=None if model.captioner is None else _decoder_to_dict(model.captioner.decoder.config),
      caption_vocab_size=vocab_size if model.captioner is not None else 0,
      data_source=str(config.data.source))
  return model, record


def build_model(config: ml_collections.ConfigDict, vocab, workdir: str = '', *,
                caption_vocab_size: int = 0,
                backbone_from: str | None = None) -> classifier.ArtClassifier:
  """A fresh ArtClassifier; see `build_with_record`."""
  return build_with_record(config, vocab, workdir, caption_vocab_size=caption_vocab_size,
                           backbone_from=backbone_from)[0]


def restore_model(config: ml_collections.ConfigDict, vocab, workdir: str
                  ) -> tuple[classifier.ArtClassifier, RunRecord]:
  """The model a workdir trained, with random weights to restore a checkpoint over.

  Built from `<workdir>/run.json` alone: no `init_from`, no hub. The current
  config chooses only how to compute (model.dtype, attention, remat). A workdir
  trained before run records existed is rebuilt from the config, with a warning.
  """
  if not os.path.exists(os.path.join(workdir, RECORD_FILE)):
    logging.warning('%s has no %s (trained by an older version): rebuilding the model from '
                    'the config', workdir, RECORD_FILE)
    return build_with_record(config, vocab, workdir, backbone_from='')
  record = RunRecord.load(workdir)
  model_cfg = ml_collections.ConfigDict(record.model)
  for field in _NUMERICS:
    model_cfg[field] = config.model[field]
  model = classifier.ArtClassifier(model_cfg, vocab.num_classes, style_names=list(vocab.style),
                                   **extra_heads(model_cfg, vocab),
                                   rngs=nnx.Rngs(params=config.seed))
  decoder = None if record.decoder is None else _decoder_from_dict(record.decoder)
  if decoder is not None:
    decoder = _with_numerics(decoder, model_cfg)
  model.captioner = (None if decoder is None else build_captioner(
      model_cfg, model.backbone.config.hidden_size, record.caption_vocab_size,
      rngs=nnx.Rngs(params=config.seed + 1), label_classes=label_classes(model_cfg, vocab),
      decoder=decoder, tag_threshold=float(config.describe.tag_probable)))
  return model, record


def pretrained_backbone(config: ml_collections.ConfigDict):
  """The backbone of `config.init_from` alone, at `data.image_size`, and its normalisation.

  For `mode=embed` without training: the checkpoint's features as they are.
  """
  source = backbone_source(config)
  if not source:
    raise ValueError('config.init_from is empty: embed needs a trained workdir or a '
                     'checkpoint to read features from')
  cfg = ViTConfig.from_config(model_config(config))
  backbone = assign.abstract(lambda rngs: ViT(cfg, rngs=rngs))
  convert_backbone.load_into(backbone, source)
  return backbone, normalization(config)
