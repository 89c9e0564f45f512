"""Loading and converting checkpoints never imports torch (checked in a fresh interpreter)."""

import os
import subprocess
import sys
import textwrap

import torch
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VISION = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
              image_size=8, patch_size=4)


def _write_checkpoints(tmp_path):
  torch.manual_seed(0)
  text = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
  models = {
      'vit': transformers.ViTModel(transformers.ViTConfig(**VISION)),
      'clip': transformers.CLIPModel(transformers.CLIPConfig(
          text_config=dict(**text, vocab_size=40, max_position_embeddings=8),
          vision_config=VISION, projection_dim=8)),
      'gpt2': transformers.GPT2LMHeadModel(transformers.GPT2Config(
          n_embd=16, n_layer=1, n_head=2, vocab_size=40, n_positions=8)),
      'git': transformers.GitForCausalLM(transformers.GitConfig(
          vision_config=VISION, vocab_size=40, max_position_embeddings=8, **text)),
  }
  for name, model in models.items():
    model.save_pretrained(tmp_path / name)


def test_loading_does_not_import_torch(tmp_path):
  _write_checkpoints(tmp_path)
  script = textwrap.dedent(f"""
      import sys
      from wikiart_jax import convert
      from wikiart_jax.inference import zero_shot  # its CLIPTokenizer import is lazy anyway
      from wikiart_jax.models.vit import ViT, ViTConfig
      from flax import nnx
      d = {str(tmp_path)!r}
      vit, _ = convert.load_vit(d + '/vit')
      convert.load_clip(d + '/clip')
      convert.load_gpt2(d + '/gpt2')
      convert.load_git(d + '/git')
      convert.load_vit(d + '/clip')  # the image tower of a CLIP checkpoint
      convert.export_vit(vit, d + '/exported')
      convert.load_vit(d + '/exported')
      from transformers import CLIPTokenizer
      assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)[:5]
      print('NO_TORCH_OK')
  """)
  env = {**os.environ, 'PYTHONPATH': ROOT, 'JAX_PLATFORMS': 'cpu'}
  out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  assert 'NO_TORCH_OK' in out.stdout
