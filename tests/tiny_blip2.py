"""Shared by the BLIP-2 tests: tiny random `Blip2ForConditionalGeneration` folders, with
OPT or Flan-T5 as the language model, laid out as a hub folder holds them (config.json,
safetensors, the processor's image statistics, the tokenizer), made by transformers."""

import numpy as np
import torch
import transformers

from wikiart_jax.text import tokenizer as tokenizer_lib

VISION = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              image_size=28, patch_size=14)
QFORMER = dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=48,
               cross_attention_frequency=2)
NUM_QUERY = 4
IMAGE_SIZE = VISION['image_size']
# The tokenizer's texts: enough words that its vocabulary is a few hundred tokens.
TEXTS = ['a painting of a river with trees and a bridge', 'un paysage avec des arbres',
         'Style: Impressionism. Artist: Claude Monet. Genre: landscape.',
         'Description in English:', 'Description en français :',
         'Describe this painting in French:']


def opt_config(vocab_size: int, **overrides) -> dict:
  return dict(dict(model_type='opt', vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                   ffn_dim=48, num_attention_heads=4, max_position_embeddings=64,
                   word_embed_proj_dim=32, pad_token_id=0, bos_token_id=1, eos_token_id=2),
              **overrides)


def t5_config(vocab_size: int, **overrides) -> dict:
  return dict(dict(model_type='t5', vocab_size=vocab_size, d_model=32, d_kv=8, d_ff=48,
                   num_layers=2, num_decoder_layers=2, num_heads=4,
                   relative_attention_num_buckets=8, relative_attention_max_distance=16,
                   feed_forward_proj='gated-gelu', pad_token_id=0, eos_token_id=2,
                   decoder_start_token_id=0), **overrides)


def save_blip2(folder, family: str, *, seed: int = 0, max_shard_size=None, texts=TEXTS,
               tokens: int = 300, **text_overrides):
  """Writes a random BLIP-2 (`family` 'opt' | 't5') with a demo BPE tokenizer.

  The weights are drawn wider than transformers' initialisation so that greedy and
  beam decoding do not collapse onto one repeated token.

  Args:
    folder: where to write.
    family: the language model.
    seed: the weights' seed.
    max_shard_size: writes sharded safetensors and their index when given.
    texts, tokens: the tokenizer's training texts and target vocabulary size.
    **text_overrides: text_config fields (e.g. max_position_embeddings).

  Returns:
    (the PyTorch model in eval mode, the tokenizer).
  """
  tokenizer = tokenizer_lib.build_bpe_tokenizer(str(folder), texts, vocab_size=tokens)
  vocab = len(tokenizer) + 1  # and BLIP-2's <image> placeholder, last
  text = (opt_config if family == 'opt' else t5_config)(vocab, **text_overrides)
  cfg = transformers.Blip2Config(vision_config=VISION, qformer_config=QFORMER, text_config=text,
                                 num_query_tokens=NUM_QUERY, image_token_index=vocab - 1)
  torch.manual_seed(seed)
  model = transformers.Blip2ForConditionalGeneration(cfg).eval()
  generator = torch.Generator().manual_seed(seed)
  with torch.no_grad():
    for name, param in model.named_parameters():
      scale = 0.3 if param.ndim > 1 or 'query_tokens' in name else 0.1
      param.add_(torch.randn(param.shape, generator=generator) * scale)
  kwargs = {} if max_shard_size is None else {'max_shard_size': max_shard_size}
  model.save_pretrained(folder, **kwargs)
  # The processor's image statistics (OpenAI CLIP's), as the released folders hold them.
  transformers.BlipImageProcessorPil(
      size={'height': IMAGE_SIZE, 'width': IMAGE_SIZE}).save_pretrained(folder)
  return model, tokenizer


def images(batch: int = 2, seed: int = 0) -> np.ndarray:
  """Normalised pixels [B, 3, S, S] (transformers' layout)."""
  return np.random.default_rng(seed).normal(size=(batch, 3, IMAGE_SIZE, IMAGE_SIZE)).astype(
      np.float32)


def nhwc(x: np.ndarray) -> np.ndarray:
  return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def hf_generate(model, pixels: np.ndarray, prompt: np.ndarray, max_new: int, *,
                pad_token_id: int = 0, **kwargs) -> np.ndarray:
  """transformers' generate() from a text prompt [B, T] (no placeholders): the new tokens
  [B, max_new], padded with `pad_token_id` after an early stop."""
  image = np.full((prompt.shape[0], NUM_QUERY), model.config.image_token_index)
  ids = np.concatenate([image, prompt], axis=1)
  with torch.no_grad():
    out = model.generate(pixel_values=torch.tensor(pixels), input_ids=torch.tensor(ids),
                         attention_mask=torch.ones(ids.shape, dtype=torch.long),
                         max_new_tokens=max_new, do_sample=False, pad_token_id=pad_token_id,
                         **kwargs).numpy()
  new = out[:, ids.shape[1]:] if model.config.text_config.model_type == 'opt' else out[:, 1:]
  return np.pad(new, ((0, 0), (0, max_new - new.shape[1])), constant_values=pad_token_id)
