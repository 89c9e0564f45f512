"""Export: a backbone written back as an HF folder loads in transformers and in our loader."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from wikiart_jax.convert import export_vit, load_vit
from wikiart_jax.models.vit import ViT, ViTConfig

SIZES = dict(image_size=16, patch_size=4, hidden_size=32, num_layers=2, num_heads=4, mlp_dim=48)
HF_VIT = dict(pre_layernorm=False, patch_bias=True, final_norm='all', activation='gelu',
              layer_norm_eps=1e-12)
CLIP_VISION = dict(pre_layernorm=True, patch_bias=False, final_norm='cls',
                   activation='quick_gelu', layer_norm_eps=1e-5)



# One compiled program per test instead of op-by-op dispatch: several times less CPU.
_run = nnx.jit(lambda model, *args, **kwargs: model(*args, **kwargs))

def _params(model):
  return {p: np.asarray(v.get_value())
          for p, v in nnx.to_flat_state(nnx.state(model, nnx.Param))}


@pytest.mark.parametrize('style,pooler,hf_class', [
    (HF_VIT, 'tanh', transformers.ViTModel),
    (HF_VIT, 'none', transformers.ViTModel),
    (CLIP_VISION, 'none', transformers.CLIPVisionModel)])
def test_export_round_trip(tmp_path, style, pooler, hf_class):
  ours = ViT(ViTConfig(**SIZES, **style, pooler=pooler), rngs=nnx.Rngs(3))
  # Non-trivial LayerNorm/bias values, as after training (init has ones and zeros).
  nnx.update(ours, nnx.from_flat_state([
      (p, v + 0.1 * np.random.default_rng(i).normal(size=v.shape).astype(np.float32))
      for i, (p, v) in enumerate(_params(ours).items())]))
  export_vit(ours, tmp_path)

  back, fields = load_vit(str(tmp_path), pooler=pooler)
  assert back.config == ours.config
  before, after = _params(ours), _params(back)
  assert before.keys() == after.keys()
  for path in before:
    np.testing.assert_array_equal(after[path], before[path], err_msg=str(path))

  ref = hf_class.from_pretrained(tmp_path).eval()
  images = np.random.default_rng(0).normal(size=(2, 3, 16, 16)).astype(np.float32)
  with torch.no_grad():
    want = ref(pixel_values=torch.tensor(images))
  out = _run(ours, jnp.asarray(images.transpose(0, 2, 3, 1)))
  pooled, tokens = out.pooled, out.tokens
  np.testing.assert_allclose(tokens, want.last_hidden_state.numpy(), atol=1e-4, rtol=0)
  if pooler == 'tanh' or hf_class is transformers.CLIPVisionModel:
    np.testing.assert_allclose(pooled, want.pooler_output.numpy(), atol=1e-4, rtol=0)


def test_unexportable_backbone_is_refused(tmp_path):
  odd = ViT(ViTConfig(**SIZES, **{**HF_VIT, 'pre_layernorm': True}), rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match='cannot export this backbone'):
    export_vit(odd, tmp_path)
