"""Shared by the CLIP tests: a tiny random checkpoint with its tokenizer, and its
reference embeddings from transformers."""

import numpy as np
import pytest
import torch
import transformers
from tokenizers import pre_tokenizers

# Class names of the zero-shot tests, per task.
CLASS_NAMES = {'style': ['Impressionism', 'Cubism', 'Baroque', 'Pop Art', 'Ukiyo e'],
               'genre': ['portrait', 'landscape', 'still life'],
               'artist': ['Claude Monet', 'Pablo Picasso', 'Rembrandt', 'Hokusai']}


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


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
  """(folder, PyTorch CLIPModel, tokenizer) of a tiny random CLIP checkpoint; import it."""
  folder = tmp_path_factory.mktemp('clip')
  model, tokenizer = save_random_clip(folder)
  return folder, model, tokenizer


def torch_text_embeddings(model, tokenizer, texts):
  """transformers' L2-normalised text embeddings, padded as ZeroShotCLIP pads."""
  out = tokenizer(texts, padding='max_length', max_length=77, truncation=True,
                  return_tensors='pt')
  with torch.no_grad():
    f = model.get_text_features(input_ids=out['input_ids'],
                                attention_mask=out['attention_mask']).pooler_output.numpy()
  return f / np.linalg.norm(f, axis=-1, keepdims=True)


def torch_image_embeddings(model, images_imagenet):
  """transformers' L2-normalised image embeddings of ImageNet-normalised NHWC images."""
  # The hand-written reference of the re-normalisation: ImageNet stats -> CLIP stats.
  rgb = images_imagenet * np.array([0.229, 0.224, 0.225]) + np.array([0.485, 0.456, 0.406])
  clip = (rgb - np.array([0.48145466, 0.4578275, 0.40821073])) / np.array(
      [0.26862954, 0.26130258, 0.27577711])
  with torch.no_grad():
    f = model.get_image_features(pixel_values=torch.tensor(
        clip.transpose(0, 3, 1, 2), dtype=torch.float32)).pooler_output.numpy()
  return f / np.linalg.norm(f, axis=-1, keepdims=True)
