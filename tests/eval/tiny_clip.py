"""Shared by the eval tests: a tiny random CLIP checkpoint saved with its tokenizer."""

import torch
import transformers
from tokenizers import pre_tokenizers


def save_random_clip(folder):
  """Saves a random CLIPModel and a byte-level CLIPTokenizer with no merges in `folder`.

  Returns:
    (the PyTorch model in eval mode, the tokenizer), the references to compare against.
  """
  chars = sorted(pre_tokenizers.ByteLevel.alphabet())
  vocab = {c: i for i, c in enumerate(chars)}
  vocab.update({c + '</w>': len(chars) + i for i, c in enumerate(chars)})
  vocab['<|startoftext|>'], vocab['<|endoftext|>'] = len(vocab), len(vocab) + 1
  tokenizer = transformers.CLIPTokenizer(vocab=vocab, merges=[])
  tokenizer.save_pretrained(folder)
  torch.manual_seed(0)
  cfg = transformers.CLIPConfig(
      text_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                       intermediate_size=48, vocab_size=len(vocab), max_position_embeddings=77,
                       bos_token_id=vocab['<|startoftext|>'],
                       eos_token_id=vocab['<|endoftext|>'], pad_token_id=vocab['<|endoftext|>']),
      vision_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=48, image_size=16, patch_size=8),
      projection_dim=16)
  model = transformers.CLIPModel(cfg).eval()
  model.save_pretrained(folder)
  return model, tokenizer
