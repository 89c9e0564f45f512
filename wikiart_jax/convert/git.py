"""GIT checkpoints (GitForCausalLM safetensors) -> models.git.GitForCausalLM.

The image tower goes onto our ViT through `convert.vit` (CLIP names under
`git.image_encoder.vision_model.`); the BERT-style decoder keeps HF's nesting
in the keys (attention.self.query, attention.output.LayerNorm, ...) and our
flatter names in the model.
"""

from __future__ import annotations

from typing import Any, Sequence

from wikiart_jax.convert import assign, hub, vit, vocab_resize
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.git import GitConfig, GitForCausalLM
from wikiart_jax.models.vit import ViTConfig

_IGNORE = (r'(^|\.)position_ids$',)
# The text decoder's keys (everything but the image tower): what a GIT-style
# captioner on our own backbone loads.
DECODER_KEYS = ('git.embeddings.', 'git.visual_projection.', 'git.encoder.', 'output.')
# The keys indexed by token id (resized for another tokenizer: convert/vocab_resize.py).
VOCAB_KEYS = ('git.embeddings.word_embeddings.weight', 'output.weight', 'output.bias')


def config_from_hf(hf: dict[str, Any], *, dtype: str = 'float32') -> GitConfig:
  """Our GitConfig from a GitForCausalLM config.json dict."""
  if hf.get('model_type') != 'git':
    raise CheckpointError(f"expected a GIT checkpoint (model_type 'git'), "
                              f"got {hf.get('model_type')!r}")
  if hf.get('num_image_with_embedding'):
    raise CheckpointError('GIT video checkpoints (num_image_with_embedding) are not supported')
  if hf.get('position_embedding_type', 'absolute') != 'absolute':
    raise CheckpointError(f"GIT position_embedding_type {hf['position_embedding_type']!r} "
                              'is not supported')
  return GitConfig(
      vision=ViTConfig(**vit.config_fields(hf), dtype=dtype),
      vocab_size=hf.get('vocab_size', 30522), hidden_size=hf.get('hidden_size', 768),
      num_layers=hf.get('num_hidden_layers', 6), num_heads=hf.get('num_attention_heads', 12),
      mlp_dim=hf.get('intermediate_size', 3072), activation=hf.get('hidden_act', 'gelu'),
      layer_norm_eps=hf.get('layer_norm_eps', 1e-12),
      max_position_embeddings=hf.get('max_position_embeddings', 1024), dtype=dtype)


def mapping(cfg: GitConfig) -> assign.Mapping:
  """Every GitForCausalLM checkpoint key -> (our parameter path, transform)."""
  m = assign.nest(vit.mapping(cfg.vision, 'git', 'git.image_encoder.vision_model.'),
                  ('image_encoder',))
  e = 'git.embeddings.'
  assign.add_embed(m, e + 'word_embeddings', ('embeddings', 'word_embeddings'))
  assign.add_embed(m, e + 'position_embeddings', ('embeddings', 'position_embeddings'))
  assign.add_norm(m, e + 'LayerNorm', ('embeddings', 'layer_norm'))
  proj = 'git.visual_projection.visual_projection.'
  assign.add_linear(m, proj + '0', ('visual_projection', 'dense'))
  assign.add_norm(m, proj + '1', ('visual_projection', 'layer_norm'))
  for i in range(cfg.num_layers):
    k, p = f'git.encoder.layer.{i}.', ('layers', i)
    for name in ('query', 'key', 'value'):
      assign.add_linear(m, k + 'attention.self.' + name, p + (name,))
    assign.add_linear(m, k + 'attention.output.dense', p + ('attention_output',))
    assign.add_norm(m, k + 'attention.output.LayerNorm', p + ('attention_norm',))
    assign.add_linear(m, k + 'intermediate.dense', p + ('intermediate',))
    assign.add_linear(m, k + 'output.dense', p + ('output',))
    assign.add_norm(m, k + 'output.LayerNorm', p + ('output_norm',))
  assign.add_linear(m, 'output', ('output',))
  return m


def _untie(tensors: dict, hf: dict[str, Any]) -> dict:
  """A tied head is saved without output.weight: it is the word embedding matrix."""
  if hf.get('tie_word_embeddings') and 'output.weight' not in tensors:
    tensors = {**tensors, 'output.weight': tensors['git.embeddings.word_embeddings.weight']}
  return tensors


def load_weights(model: GitForCausalLM, folder: str, *, include: Sequence[str] | None = None,
                 pieces: Sequence[Sequence[int]] | None = None) -> list[str]:
  """Loads a checkpoint folder into an existing GIT (all keys, or `include` prefixes);
  with `pieces` (`vocab_resize.piece_ids`) the token rows are made for another tokenizer."""
  tensors = _untie(hub.read_tensors(folder), hub.read_config(folder))
  if pieces is not None:
    tensors = vocab_resize.resize(tensors, VOCAB_KEYS, pieces)
  return assign.load_into(model, tensors, mapping(model.config), include=include,
                          ignore=_IGNORE)


def load_git(source: str, *, dtype: str = 'float32') -> GitForCausalLM:
  """Builds our GIT from a checkpoint ('hf:<id>' or folder) with its weights."""
  folder = hub.resolve(source)
  cfg = config_from_hf(hub.read_config(folder), dtype=dtype)
  model = assign.abstract(lambda rngs: GitForCausalLM(cfg, rngs=rngs))
  load_weights(model, folder)
  return model
