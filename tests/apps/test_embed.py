"""`mode=embed`: pooled features from a checkpoint alone, or from a trained workdir."""

import os

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from conftest import launch

FIXTURES = os.path.join(os.path.dirname(ROOT), 'shared', 'timm-fixtures')


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason='../shared/timm-fixtures is absent')
@pytest.mark.parametrize('arch, size', [('vit_base_patch16_224', 32),
                                        ('vit_small_patch14_dinov2', 28)])
def test_embed_from_a_timm_folder_alone_gives_timms_features(tmp_path, arch, size):
  folder = os.path.join(FIXTURES, arch)
  out = tmp_path / 'features.npz'
  bad = tmp_path / 'notes.png'
  bad.write_text('not an image')
  proc = launch(str(tmp_path / 'work'), '--config.mode=embed', f'--config.init_from={folder}',
                f'--config.data.image_size={size}',
                f'--config.embed.inputs={folder}/image.png,{bad}',
                f'--config.embed.output={out}', check=False)
  assert proc.returncode == 1 and 'notes.png' in proc.stderr  # the bad file, named
  saved = np.load(out)
  assert list(saved['paths']) == [f'{folder}/image.png']
  # x / 255, then the checkpoint's own mean / std (pretrained_cfg), as timm computed it.
  np.testing.assert_allclose(saved['pooled'][0],
                             np.load(os.path.join(folder, 'reference.npz'))['pooled_png'][0],
                             atol=1e-4)


def test_embed_from_a_trained_workdir(trained_workdir, tmp_path):
  images = tmp_path / 'in'
  images.mkdir()
  rng = np.random.default_rng(0)
  for i in range(3):
    Image.fromarray(rng.integers(0, 255, (40 + i, 50, 3), np.uint8)).save(images / f'{i}.png')
  out = tmp_path / 'out' / 'features.npz'
  launch(trained_workdir, '--config.mode=embed', f'--config.embed.inputs={images}',
         f'--config.embed.output={out}')
  saved = np.load(out)
  assert saved['pooled'].shape == (3, 64) and np.isfinite(saved['pooled']).all()
  assert [os.path.basename(p) for p in saved['paths']] == ['0.png', '1.png', '2.png']


def test_embed_needs_its_inputs_and_an_npz(tmp_path):
  proc = launch(str(tmp_path), '--config.mode=embed', check=False)
  assert proc.stderr.strip().splitlines()[-1].startswith('error: config.embed.inputs')
  proc = launch(str(tmp_path), '--config.mode=embed', '--config.embed.inputs=x',
                '--config.embed.output=f.csv', check=False)
  assert 'must end with .npz' in proc.stderr
