"""BLIP-2 checkpoints (`Salesforce/blip2-opt-2.7b`, `Salesforce/blip2-flan-t5-xl` layouts)
-> models.blip2, the image tower alone (a classifier's backbone), or the rest (a captioner).

A folder or hub id with config.json (`model_type` 'blip-2'), sharded safetensors
read one tensor at a time (`hub.LazyTensors`), `preprocessor_config.json` (the
image statistics, convert/preprocessing.py) and the tokenizer. Keys as written
by transformers:

  vision_model.embeddings.{class_embedding, position_embedding, patch_embedding}
  vision_model.encoder.layers.{i}.{layer_norm1, self_attn.qkv, self_attn.projection,
                                   layer_norm2, mlp.fc1, mlp.fc2}
  vision_model.post_layernorm
  query_tokens, qformer.* (models/qformer.py), language_projection,
  language_model.* (convert/opt.py, convert/t5.py)

The Q-Former's text-branch feed-forward (`intermediate` / `output`), which some
files carry and captioning never runs, is skipped, as transformers does.
"""

from __future__ import annotations

from typing import Any

from wikiart_jax.convert import assign, hub
from wikiart_jax.convert import opt as convert_opt
from wikiart_jax.convert import t5 as convert_t5
from wikiart_jax.convert import vit as convert_vit
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.blip2 import Blip2Config, Blip2Decoder, Blip2ForConditionalGeneration
from wikiart_jax.models.qformer import QFormerConfig
from wikiart_jax.models.vit import ViT, ViTConfig

MODEL_TYPE = 'blip-2'
VISION = 'vision_model.'
LANGUAGE = 'language_model.'
IGNORE = (r'(^|\.)position_ids$',
          r'^qformer\.encoder\.layer\.\d+\.(intermediate|output)\.',  # the text branch
          r'^qformer\.embeddings\.')


def check_blip2(hf: dict[str, Any], folder: str = '') -> None:
  """Refuses a config that is not BLIP-2's, naming the file and the key."""
  if hf.get('model_type') != MODEL_TYPE:
    raise CheckpointError(f"{folder or 'the checkpoint'}/config.json: model_type is "
                          f"{hf.get('model_type')!r}, not a BLIP-2 checkpoint ({MODEL_TYPE!r})")
  for key in ('vision_config', 'qformer_config', 'text_config'):
    if not isinstance(hf.get(key), dict):
      raise CheckpointError(f"{folder or 'the checkpoint'}/config.json has no {key}")


def vision_fields(hf: dict[str, Any]) -> dict[str, Any]:
  """The ViTConfig fields (= config.model fields) of the image tower."""
  v = hf['vision_config']
  if not v.get('qkv_bias', True):
    raise CheckpointError('BLIP-2 image towers without qkv_bias are not supported')
  if v.get('hidden_act', 'gelu') != 'gelu':
    raise CheckpointError(f"BLIP-2 vision hidden_act {v['hidden_act']!r} is not supported")
  return dict(image_size=v.get('image_size', 224), patch_size=v.get('patch_size', 14),
              hidden_size=v.get('hidden_size', 1408), num_layers=v.get('num_hidden_layers', 39),
              num_heads=v.get('num_attention_heads', 16),
              mlp_dim=v.get('intermediate_size', 6144),
              layer_norm_eps=v.get('layer_norm_eps', 1e-6), activation='gelu',
              pre_layernorm=False, patch_bias=True, final_norm='all', pooler='norm',
              qkv='fused')


def qformer_config(hf: dict[str, Any], *, dtype: str = 'float32',
                   dropout: float = 0.0) -> QFormerConfig:
  q = hf['qformer_config']
  if q.get('use_qformer_text_input'):
    raise CheckpointError('BLIP-2 Q-Formers with text input are not supported')
  return QFormerConfig(
      hidden_size=q.get('hidden_size', 768), num_layers=q.get('num_hidden_layers', 12),
      num_heads=q.get('num_attention_heads', 12), mlp_dim=q.get('intermediate_size', 3072),
      activation=q.get('hidden_act', 'gelu'), layer_norm_eps=q.get('layer_norm_eps', 1e-12),
      cross_attention_frequency=q.get('cross_attention_frequency', 2),
      encoder_hidden_size=hf['vision_config'].get('hidden_size', 1408), dropout=dropout,
      dtype=dtype)


def config_from_hf(hf: dict[str, Any], *, tied: bool | None = None, dtype: str = 'float32',
                   lm_param_dtype: str = 'float32', dropout: float = 0.0,
                   remat: str = 'none') -> Blip2Config:
  """Our Blip2Config from a Blip2ForConditionalGeneration config.json dict.

  Args:
    hf: the config dict.
    tied: whether the LM head is its embedding (`language_model_tied`); None = the config's.
    dtype: compute dtype of every part.
    lm_param_dtype: storage of the language model (bfloat16 for a frozen one).
    dropout: the Q-Former's and the language model's dropout when training.
    remat: the language model's remat policy when training.
  """
  check_blip2(hf)
  text = hf['text_config']
  kind = text.get('model_type')
  reader = {'opt': convert_opt, 't5': convert_t5}.get(kind)
  if reader is None:
    raise CheckpointError(f"BLIP-2 text_config model_type {kind!r} is not supported "
                          "(expected 'opt' or 't5')")
  return Blip2Config(
      vision=ViTConfig(**vision_fields(hf), dtype=dtype),
      qformer=qformer_config(hf, dtype=dtype, dropout=dropout),
      text=reader.config_from_hf(text, tied=tied, dtype=dtype, param_dtype=lm_param_dtype,
                                 dropout=dropout, remat=remat),
      num_query_tokens=hf.get('num_query_tokens', 32), **special_ids(text))


def special_ids(text: dict[str, Any]) -> dict[str, int]:
  """The language model's BOS / EOS / PAD ids from its text_config (T5 has no BOS:
  its decoder starts from PAD)."""
  first = lambda v: v[0] if isinstance(v, (list, tuple)) else v
  pad = first(text.get('pad_token_id'))
  pad = (1 if text.get('model_type') == 'opt' else 0) if pad is None else pad
  bos = first(text.get('bos_token_id'))
  eos = first(text.get('eos_token_id'))
  if eos is None:
    raise CheckpointError('BLIP-2 text_config has no eos_token_id')
  return dict(bos_token_id=pad if bos is None else bos, eos_token_id=eos, pad_token_id=pad)


def head_keys(cfg_or_family) -> tuple[str, str]:
  """(LM head key, embedding key) in a BLIP-2 file for the LM family."""
  family = cfg_or_family if isinstance(cfg_or_family, str) else cfg_or_family.family
  if family == 'opt':
    return LANGUAGE + 'lm_head.weight', LANGUAGE + 'model.decoder.embed_tokens.weight'
  return LANGUAGE + 'lm_head.weight', LANGUAGE + 'shared.weight'


def language_model_tied(tensors, hf: dict[str, Any]) -> bool:
  """Whether the file's LM head is its embedding (no head, or an equal one)."""
  return assign.head_is_tied(tensors, *head_keys(hf['text_config'].get('model_type')))


def vision_mapping(cfg: ViTConfig, prefix: str = VISION) -> assign.Mapping:
  """Image tower keys -> (ViT parameter path, transform)."""
  m: assign.Mapping = {}
  e = prefix + 'embeddings.'
  m[e + 'class_embedding'] = (('embeddings', 'cls_token'), assign.keep)
  m[e + 'position_embedding'] = (('embeddings', 'position_embeddings'), assign.keep)
  assign.add_linear(m, e + 'patch_embedding', ('embeddings', 'patch_embeddings'),
                    transform=assign.conv)
  for i in range(cfg.num_layers):
    k, p = f'{prefix}encoder.layers.{i}.', ('layers', i)
    assign.add_norm(m, k + 'layer_norm1', p + ('layernorm_before',))
    assign.add_linear(m, k + 'self_attn.qkv', p + ('attention', 'qkv'))
    assign.add_linear(m, k + 'self_attn.projection', p + ('attention', 'output'))
    assign.add_norm(m, k + 'layer_norm2', p + ('layernorm_after',))
    assign.add_linear(m, k + 'mlp.fc1', p + ('mlp', 'fc1'))
    assign.add_linear(m, k + 'mlp.fc2', p + ('mlp', 'fc2'))
  assign.add_norm(m, prefix + 'post_layernorm', ('layernorm',))
  return m


def qformer_mapping(cfg: QFormerConfig, prefix: str = 'qformer.') -> assign.Mapping:
  """Q-Former keys -> (QFormer parameter path, transform)."""
  m: assign.Mapping = {}
  assign.add_norm(m, prefix + 'layernorm', ('layernorm',))
  for i in range(cfg.num_layers):
    k, p = f'{prefix}encoder.layer.{i}.', ('layers', i)
    branches = ['attention'] + (['crossattention'] if i % cfg.cross_attention_frequency == 0
                                else [])
    for branch in branches:
      for name in ('query', 'key', 'value'):
        assign.add_linear(m, f'{k}{branch}.attention.{name}', p + (branch, name))
      assign.add_linear(m, f'{k}{branch}.output.dense', p + (branch, 'dense'))
      assign.add_norm(m, f'{k}{branch}.output.LayerNorm', p + (branch, 'norm'))
    assign.add_linear(m, k + 'intermediate_query.dense', p + ('intermediate',))
    assign.add_linear(m, k + 'output_query.dense', p + ('output',))
    assign.add_norm(m, k + 'output_query.LayerNorm', p + ('output_norm',))
  return m


def decoder_mapping(cfg: Blip2Config) -> assign.Mapping:
  """Every key but the image tower's -> (Blip2Decoder parameter path, transform)."""
  m = assign.nest(qformer_mapping(cfg.qformer), ('qformer',))
  m['query_tokens'] = (('query_tokens',), assign.keep)
  assign.add_linear(m, 'language_projection', ('language_projection',))
  lm = convert_opt if cfg.family == 'opt' else convert_t5
  m.update(assign.nest(lm.mapping(cfg.text, LANGUAGE), ('language_model',)))
  return m


def _ignore(cfg: Blip2Config, *extra: str) -> tuple[str, ...]:
  # The families' patterns are searched, not anchored: they hold under `language_model.`.
  lm_ignore = convert_opt.IGNORE if cfg.family == 'opt' else convert_t5.IGNORE
  head = (assign.exactly(head_keys(cfg)[0]),) if cfg.text.tie_word_embeddings else ()
  return IGNORE + lm_ignore + head + extra


def load_decoder_weights(decoder: Blip2Decoder, folder: str, tensors=None) -> list[str]:
  """Loads every key but the image tower's into a `Blip2Decoder`, strictly."""
  tensors = hub.LazyTensors(folder) if tensors is None else tensors
  return assign.load_into(decoder, tensors, decoder_mapping(decoder.config),
                          ignore=_ignore(decoder.config, '^' + VISION.replace('.', r'\.')))


def load_vision_into(vit: ViT, source: str) -> list[str]:
  """Loads a BLIP-2 checkpoint's image tower into `vit` (a classifier's backbone), strictly;
  the position table is resampled when `vit`'s image size differs."""
  folder = hub.resolve(source)
  check_blip2(hub.read_config(folder), folder)
  m = vision_mapping(vit.config)
  side = vit.config.image_size // vit.config.patch_size
  path, _ = m[VISION + 'embeddings.position_embedding']
  m[VISION + 'embeddings.position_embedding'] = (
      path, lambda w: convert_vit.resample_positions(w, 1, side))
  return assign.load_into(vit, hub.LazyTensors(folder), m,
                          ignore=(r'^(?!' + VISION.replace('.', r'\.') + ')',))


def load_blip2(source: str, *, dtype: str = 'float32') -> Blip2ForConditionalGeneration:
  """Builds our whole BLIP-2 from a checkpoint ('hf:<id>' or folder) with its weights."""
  folder = hub.resolve(source)
  hf = hub.read_config(folder)
  check_blip2(hf, folder)
  tensors = hub.LazyTensors(folder)
  cfg = config_from_hf(hf, tied=language_model_tied(tensors, hf), dtype=dtype)
  model = assign.abstract(lambda rngs: Blip2ForConditionalGeneration(cfg, rngs=rngs))
  m = assign.nest(vision_mapping(cfg.vision), ('vision_model',))
  m.update(decoder_mapping(cfg))
  assign.load_into(model, tensors, m, ignore=_ignore(cfg))
  return model


# The released checkpoints' config.json, reduced to what sizes them: random-weight
# builds (bench, the config tests) need no hub access (`caption_decoder.architecture`).
RELEASED = {
    'blip2-opt-2.7b': dict(
        model_type=MODEL_TYPE, num_query_tokens=32, vision_config={}, qformer_config={},
        text_config=dict(model_type='opt', vocab_size=50304, hidden_size=2560,
                         num_hidden_layers=32, num_attention_heads=32, ffn_dim=10240,
                         max_position_embeddings=2048, bos_token_id=2, eos_token_id=50118,
                         pad_token_id=1)),
    'blip2-flan-t5-xl': dict(
        model_type=MODEL_TYPE, num_query_tokens=32, vision_config={}, qformer_config={},
        text_config=dict(model_type='t5', vocab_size=32128, d_model=2048, d_kv=64, d_ff=5120,
                         num_layers=24, num_heads=32, feed_forward_proj='gated-gelu',
                         tie_word_embeddings=False, decoder_start_token_id=0,
                         eos_token_id=1, pad_token_id=0)),
}


def captioner_config(source: str, architecture: str, *, tokenizer_size: int, vision_width: int,
                     dtype: str, lm_param_dtype: str, dropout: float,
                     remat: str = 'none') -> Blip2Config:
  """A BLIP-2 captioner's sizes: from `source`'s config.json (and tensors), else from a
  `RELEASED` architecture; checked against the tokenizer and the backbone's width."""
  if source:
    folder = hub.resolve(source)
    hf = hub.read_config(folder)
    check_blip2(hf, folder)
    check_vocabulary(tokenizer_size, folder, hf)
    tied = language_model_tied(hub.LazyTensors(folder), hf)
  elif architecture in RELEASED:
    hf, tied, folder = RELEASED[architecture], None, architecture
  else:
    raise ValueError('model.captioner=blip2 needs model.caption_decoder.init_from (a BLIP-2 '
                     f'checkpoint) or .architecture (one of {sorted(RELEASED)}), got '
                     f'{architecture!r}')
  cfg = config_from_hf(hf, tied=tied, dtype=dtype, lm_param_dtype=lm_param_dtype,
                       dropout=dropout, remat=remat)
  if cfg.qformer.encoder_hidden_size != vision_width:
    raise ValueError(f'{folder}: the Q-Former reads image tokens {cfg.qformer.encoder_hidden_size} '
                     f'wide but the backbone gives {vision_width}: use the checkpoint\'s own '
                     'image tower (config.init_from empty or the same checkpoint)')
  return cfg


def check_vocabulary(tokenizer_size: int, folder: str, hf: dict[str, Any]) -> None:
  """Refuses a tokenizer with more tokens than the language model's embedding table."""
  vocab = hf['text_config'].get('vocab_size')
  if vocab is not None and tokenizer_size > vocab:
    raise CheckpointError(f'{folder}/config.json: text_config.vocab_size is {vocab} but the '
                          f'caption tokenizer has {tokenizer_size} tokens: use the '
                          "checkpoint's own tokenizer")
