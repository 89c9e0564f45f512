"""GPT-2 checkpoints (GPT2LMHeadModel / GPT2Model safetensors) -> models.gpt2.

GPT-2's Conv1D weights are already [in, out], so only names change; the LM head
is tied to `wte` unless the config unties it. The original hub files were
written from GPT2Model (no `transformer.` prefix) and carry causal-mask buffers
(`attn.bias`, `attn.masked_bias`); both spellings are accepted.
"""

from __future__ import annotations

from typing import Any, Sequence

from wikiart_jax.convert import assign, hub, vocab_resize
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.gpt2 import GPT2Config, GPT2LMHeadModel

_IGNORE = (r'\.attn\.(masked_)?bias$',)
_UNSUPPORTED = ('scale_attn_by_inverse_layer_idx', 'reorder_and_upcast_attn', 'add_cross_attention')


def config_from_hf(hf: dict[str, Any], *, dtype: str = 'float32') -> GPT2Config:
  """Our GPT2Config from a checkpoint's config.json dict."""
  for flag in _UNSUPPORTED:
    if hf.get(flag):
      raise CheckpointError(f'GPT-2 config option {flag}=True is not supported')
  if not hf.get('scale_attn_weights', True):
    raise CheckpointError('GPT-2 config option scale_attn_weights=False is not supported')
  return GPT2Config(
      vocab_size=hf['vocab_size'], n_positions=hf['n_positions'], n_embd=hf['n_embd'],
      n_layer=hf['n_layer'], n_head=hf['n_head'], n_inner=hf.get('n_inner'),
      activation_function=hf.get('activation_function', 'gelu_new'),
      layer_norm_epsilon=hf.get('layer_norm_epsilon', 1e-5),
      tie_word_embeddings=hf.get('tie_word_embeddings', True), dtype=dtype)


def mapping(cfg: GPT2Config) -> assign.Mapping:
  """Checkpoint key -> (our parameter path, transform)."""
  m: assign.Mapping = {}
  t = 'transformer.'
  assign.add_embed(m, t + 'wte', ('wte',))
  assign.add_embed(m, t + 'wpe', ('wpe',))
  for i in range(cfg.n_layer):
    h, p = f'{t}h.{i}.', ('h', i)
    assign.add_norm(m, h + 'ln_1', p + ('ln_1',))
    assign.add_norm(m, h + 'ln_2', p + ('ln_2',))
    for name in ('attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'):
      assign.add_linear(m, h + name, p + tuple(name.split('.')), transform=assign.keep)
  assign.add_norm(m, t + 'ln_f', ('ln_f',))
  if not cfg.tie_word_embeddings:
    assign.add_linear(m, 'lm_head', ('lm_head',), bias=False)
  return m


# The keys indexed by token id (resized for another tokenizer: convert/vocab_resize.py).
VOCAB_KEYS = ('transformer.wte.weight', 'lm_head.weight')


def normalize_keys(tensors: dict, cfg: GPT2Config) -> dict:
  """Adds the `transformer.` prefix of GPT2LMHeadModel files to GPT2Model files.

  A tied head saved anyway (`lm_head.weight`) is dropped: it equals `wte`.
  """
  out = {}
  for key, value in tensors.items():
    if key == 'lm_head.weight':
      if cfg.tie_word_embeddings:
        continue
    elif not key.startswith('transformer.'):
      key = 'transformer.' + key
    out[key] = value
  return out


def load_weights(model: GPT2LMHeadModel, folder: str, *, include: Sequence[str] | None = None,
                 pieces: Sequence[Sequence[int]] | None = None) -> list[str]:
  """Loads a checkpoint folder into an existing model (all keys, or `include` prefixes);
  with `pieces` (`vocab_resize.piece_ids`) the token rows are made for another tokenizer."""
  tensors = normalize_keys(hub.read_tensors(folder), model.config)
  if pieces is not None:
    tensors = vocab_resize.resize(tensors, VOCAB_KEYS, pieces)
  return assign.load_into(model, tensors, mapping(model.config), include=include, ignore=_IGNORE)


def load_gpt2(source: str, *, dtype: str = 'float32') -> GPT2LMHeadModel:
  """Builds our GPT-2 from a checkpoint ('hf:<id>' or folder) with its weights."""
  folder = hub.resolve(source)
  cfg = config_from_hf(hub.read_config(folder), dtype=dtype)
  model = assign.abstract(lambda rngs: GPT2LMHeadModel(cfg, rngs=rngs))
  load_weights(model, folder)
  return model
