"""OPT checkpoints (OPTForCausalLM safetensors, alone or as BLIP-2's language model) -> models.opt.

The keys keep transformers' nesting (`model.decoder.layers.{i}.self_attn.q_proj`);
`prefix` places them inside a bigger checkpoint (`language_model.` in BLIP-2).
The LM head is the token embedding unless the file holds a different `lm_head`.
"""

from __future__ import annotations

from typing import Any

from wikiart_jax.convert import assign, hub
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.opt import OPTConfig, OPTForCausalLM

IGNORE = (r'(^|\.)position_ids$',)


def config_from_hf(hf: dict[str, Any], *, tied: bool | None = None, dtype: str = 'float32',
                   param_dtype: str = 'float32', dropout: float = 0.0,
                   remat: str = 'none') -> OPTConfig:
  """Our OPTConfig from an OPT config.json dict (or BLIP-2's text_config).

  Args:
    hf: the config dict.
    tied: whether the LM head is the token embedding (from the tensors:
      `head_is_tied`); None = the config's `tie_word_embeddings`.
    dtype, param_dtype: compute and storage dtypes.
    dropout: hidden dropout when training (the checkpoint's value is not imposed).
    remat: the layers' remat policy when training (models/remat.py).
  """
  if hf.get('model_type') != 'opt':
    raise CheckpointError(f"expected an OPT config (model_type 'opt'), got {hf.get('model_type')!r}")
  hidden = hf.get('hidden_size', 768)
  for flag, want in (('do_layer_norm_before', True), ('enable_bias', True),
                     ('layer_norm_elementwise_affine', True), ('_remove_final_layer_norm', False)):
    if hf.get(flag, want) != want:
      raise CheckpointError(f'OPT config option {flag}={hf[flag]} is not supported')
  if hf.get('word_embed_proj_dim', hidden) != hidden:
    raise CheckpointError('OPT with word_embed_proj_dim != hidden_size (project_in/out, as '
                          'opt-350m) is not supported')
  return OPTConfig(
      vocab_size=hf['vocab_size'], hidden_size=hidden, num_layers=hf['num_hidden_layers'],
      num_heads=hf['num_attention_heads'], ffn_dim=hf['ffn_dim'],
      max_position_embeddings=hf.get('max_position_embeddings', 2048),
      activation=hf.get('activation_function', 'relu'),
      tie_word_embeddings=hf.get('tie_word_embeddings', True) if tied is None else tied,
      dropout=dropout, dtype=dtype, param_dtype=param_dtype, remat=remat)


def mapping(cfg: OPTConfig, prefix: str = '') -> assign.Mapping:
  """Checkpoint key -> (our parameter path, transform)."""
  m: assign.Mapping = {}
  d = prefix + 'model.decoder.'
  assign.add_embed(m, d + 'embed_tokens', ('embed_tokens',))
  assign.add_embed(m, d + 'embed_positions', ('embed_positions',))
  for i in range(cfg.num_layers):
    k, p = f'{d}layers.{i}.', ('layers', i)
    assign.add_norm(m, k + 'self_attn_layer_norm', p + ('self_attn_layer_norm',))
    for name in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
      assign.add_linear(m, k + 'self_attn.' + name, p + (name,))
    assign.add_norm(m, k + 'final_layer_norm', p + ('final_layer_norm',))
    assign.add_linear(m, k + 'fc1', p + ('fc1',))
    assign.add_linear(m, k + 'fc2', p + ('fc2',))
  assign.add_norm(m, d + 'final_layer_norm', ('final_layer_norm',))
  if not cfg.tie_word_embeddings:
    assign.add_linear(m, prefix + 'lm_head', ('lm_head',), bias=False)
  return m


def load_opt(source: str, *, dtype: str = 'float32') -> OPTForCausalLM:
  """Builds our OPT from an OPTForCausalLM checkpoint ('hf:<id>' or folder)."""
  folder = hub.resolve(source)
  tensors = hub.LazyTensors(folder)
  tied = assign.head_is_tied(tensors, 'lm_head.weight', 'model.decoder.embed_tokens.weight')
  cfg = config_from_hf(hub.read_config(folder), tied=tied, dtype=dtype)
  model = assign.abstract(lambda rngs: OPTForCausalLM(cfg, rngs=rngs))
  # A head equal to the embedding is the embedding: our tied model has no head to fill.
  skip = (assign.exactly('lm_head.weight'),) if tied else ()
  assign.load_into(model, tensors, mapping(cfg), ignore=IGNORE + skip)
  return model
