"""T5 / Flan-T5 checkpoints (T5ForConditionalGeneration safetensors, alone or as BLIP-2's
language model) -> models.t5.

Keys keep transformers' layout (`encoder.block.{i}.layer.0.SelfAttention.q`);
`prefix` places them inside a bigger checkpoint (`language_model.`). The
`encoder.embed_tokens` / `decoder.embed_tokens` copies of `shared` are skipped.
Flan-T5 files hold their own `lm_head`; a file without one (or with one equal to
`shared`) is tied, as transformers decides.
"""

from __future__ import annotations

from typing import Any

from wikiart_jax.convert import assign, hub
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.t5 import T5Config, T5ForConditionalGeneration

IGNORE = (r'(^|\.)(encoder|decoder)\.embed_tokens\.weight$',
          # An old file's copy of block 0's bias in the cross-attention, which has none.
          r'\.EncDecAttention\.relative_attention_bias\.weight$')


def config_from_hf(hf: dict[str, Any], *, tied: bool | None = None, dtype: str = 'float32',
                   param_dtype: str = 'float32', dropout: float = 0.0,
                   remat: str = 'none') -> T5Config:
  """Our T5Config from a T5 config.json dict (or BLIP-2's text_config).

  Args:
    hf: the config dict.
    tied: whether the LM head is `shared` (from the tensors); None = the config's
      `tie_word_embeddings`.
    dtype, param_dtype: compute and storage dtypes.
    dropout: dropout when training (the checkpoint's value is not imposed).
    remat: the blocks' remat policy when training (models/remat.py).
  """
  if hf.get('model_type') != 't5':
    raise CheckpointError(f"expected a T5 config (model_type 't5'), got {hf.get('model_type')!r}")
  proj = hf.get('feed_forward_proj', 'relu')
  parts = proj.split('-')
  if len(parts) > 2 or (len(parts) == 2 and parts[0] != 'gated'):
    raise CheckpointError(f'T5 feed_forward_proj {proj!r} is not supported')
  tie = hf.get('tie_word_embeddings', True)
  # transformers' rule: T5 1.0 (tied) scales the decoder output, 1.1 / Flan-T5 do not;
  # configs it writes say so in `scale_decoder_outputs`.
  scale = hf.get('scale_decoder_outputs', tie is not False)
  layers = hf.get('num_layers', 6)
  return T5Config(
      vocab_size=hf['vocab_size'], d_model=hf['d_model'], d_kv=hf['d_kv'], d_ff=hf['d_ff'],
      num_layers=layers, num_decoder_layers=hf.get('num_decoder_layers') or layers,
      num_heads=hf['num_heads'],
      relative_attention_num_buckets=hf.get('relative_attention_num_buckets', 32),
      relative_attention_max_distance=hf.get('relative_attention_max_distance', 128),
      feed_forward=proj, layer_norm_eps=hf.get('layer_norm_epsilon', 1e-6),
      tie_word_embeddings=tie if tied is None else tied, scale_decoder_outputs=bool(scale),
      decoder_start_token_id=hf.get('decoder_start_token_id', hf.get('pad_token_id', 0)) or 0,
      dropout=dropout, dtype=dtype, param_dtype=param_dtype, remat=remat)


def mapping(cfg: T5Config, prefix: str = '') -> assign.Mapping:
  """Checkpoint key -> (our parameter path, transform)."""
  m: assign.Mapping = {}
  assign.add_embed(m, prefix + 'shared', ('shared',))
  for stack, count in (('encoder', cfg.num_layers), ('decoder', cfg.num_decoder_layers)):
    # Sub-layer order in the file: self-attention, (cross-attention,) feed-forward.
    ff = 2 if stack == 'decoder' else 1
    for i in range(count):
      k, p = f'{prefix}{stack}.block.{i}.layer.', (stack, 'blocks', i)
      for name in ('q', 'k', 'v', 'o'):
        assign.add_linear(m, f'{k}0.SelfAttention.{name}', p + ('self_attention', name),
                          bias=False)
      if i == 0:
        assign.add_embed(m, f'{k}0.SelfAttention.relative_attention_bias',
                         p + ('self_attention', 'relative_attention_bias'))
      m[f'{k}0.layer_norm.weight'] = (p + ('self_norm', 'scale'), assign.keep)
      if stack == 'decoder':
        for name in ('q', 'k', 'v', 'o'):
          assign.add_linear(m, f'{k}1.EncDecAttention.{name}', p + ('cross_attention', name),
                            bias=False)
        m[f'{k}1.layer_norm.weight'] = (p + ('cross_norm', 'scale'), assign.keep)
      for name in (('wi_0', 'wi_1', 'wo') if cfg.gated else ('wi', 'wo')):
        assign.add_linear(m, f'{k}{ff}.DenseReluDense.{name}', p + ('mlp', name), bias=False)
      m[f'{k}{ff}.layer_norm.weight'] = (p + ('mlp_norm', 'scale'), assign.keep)
    m[f'{prefix}{stack}.final_layer_norm.weight'] = ((stack, 'final_layer_norm', 'scale'),
                                                     assign.keep)
  if not cfg.tie_word_embeddings:
    assign.add_linear(m, prefix + 'lm_head', ('lm_head',), bias=False)
  return m


def load_t5(source: str, *, dtype: str = 'float32') -> T5ForConditionalGeneration:
  """Builds our T5 from a T5ForConditionalGeneration checkpoint ('hf:<id>' or folder)."""
  folder = hub.resolve(source)
  tensors = hub.LazyTensors(folder)
  tied = assign.head_is_tied(tensors, 'lm_head.weight', 'shared.weight')
  cfg = config_from_hf(hub.read_config(folder), tied=tied, dtype=dtype)
  model = assign.abstract(lambda rngs: T5ForConditionalGeneration(cfg, rngs=rngs))
  skip = (assign.exactly('lm_head.weight'),) if tied else ()
  assign.load_into(model, tensors, mapping(cfg), ignore=IGNORE + skip)
  return model
