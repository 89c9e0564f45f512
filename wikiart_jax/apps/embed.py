"""`config.mode=embed`: the pooled backbone features of image files, for retrieval and probes.

    python launch.py --config configs/<x>.py --workdir <dir> --config.mode=embed \
        --config.embed.inputs=<files or folders> --config.embed.output=features.npz

From a trained workdir (its checkpoint, architecture and normalisation: no
`init_from`, no hub), or, when the workdir holds no training, from
`config.init_from` alone: the checkpoint's own features, which also lets anyone
check a converted backbone against its source. The `.npz` holds `paths` (str
[N]) and `pooled` (float32 [N, D]); a bad file is reported on one line and
skipped, and the exit code is non-zero at the end if any file failed.
"""

import os
import sys

import jax
import ml_collections
import numpy as np
from flax import nnx
from tqdm import tqdm

from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax.apps import predict
from wikiart_jax.core import ImageError
from wikiart_jax.data import augment
from wikiart_jax.inference import predictor as predictor_lib


def _backbone(config: ml_collections.ConfigDict, workdir: str):
  """(backbone, normalisation, image size, where they come from)."""
  if os.path.exists(os.path.join(workdir, checkpointing.VOCAB_FILE)):
    restored = predictor_lib.Predictor(config, workdir)
    model = restored.parts.merge()
    return (model.backbone, restored.normalization, restored.image_size,
            f'{workdir}, step {restored.step}')
  backbone, norm = factory.pretrained_backbone(config)
  return backbone, norm, config.data.image_size, config.init_from


def embed(config: ml_collections.ConfigDict, workdir: str) -> int:
  """Writes the features of every input image; returns the number of files that failed."""
  if not config.embed.inputs or not config.embed.output:
    raise ValueError('config.embed.inputs and config.embed.output are both needed')
  if not config.embed.output.endswith('.npz'):
    raise ValueError(f'config.embed.output must end with .npz, got {config.embed.output!r}')
  paths = predict.expand_inputs(config.embed.inputs)
  backbone, norm, image_size, source = _backbone(config, workdir)
  graphdef, state = nnx.split(backbone)
  pooled_of = jax.jit(lambda s, x: nnx.merge(graphdef, s)(x).pooled.astype(np.float32))
  kept, features, failures = [], [], 0
  for chunk in tqdm([paths[i:i + predict.BATCH] for i in range(0, len(paths), predict.BATCH)],
                    desc='embed', unit='batch', file=sys.stderr):
    pixels = []
    for path in chunk:
      try:
        rgb = predictor_lib.load_image(path, config.data.max_image_pixels)
        pixels.append(augment.eval_transform(rgb, image_size, norm))
        kept.append(path)
      except ImageError as e:
        failures += 1
        tqdm.write(f'error: {e}', file=sys.stderr)
    if pixels:
      features.append(np.asarray(pooled_of(state, np.stack(pixels))))
  os.makedirs(os.path.dirname(os.path.abspath(config.embed.output)), exist_ok=True)
  pooled = (np.concatenate(features) if features
            else np.zeros((0, backbone.config.hidden_size), np.float32))
  np.savez(config.embed.output, paths=np.array(kept), pooled=pooled)
  print(f'{len(kept)} images embedded from {source} into {config.embed.output} '
        f'({pooled.shape[1]} features each)', flush=True)
  return failures
