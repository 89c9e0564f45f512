"""The palette and light from pixels: names on fields of known colours, every image mode."""

import numpy as np
import pytest
from PIL import Image

from wikiart_jax.data import images
from wikiart_jax.inference import palette


def _field(rgb, size=(20, 30)):
  out = np.zeros((*size, 3), np.uint8)
  out[:] = rgb
  return out


def test_a_pure_blue_field_is_blue_in_both_languages():
  found = palette.analyse(_field((0, 0, 255)))
  assert not found.black_and_white
  (swatch,) = found.colours
  assert (swatch.colour.en, swatch.colour.fr, swatch.share) == ('blue', 'bleu', 1.0)
  assert swatch.hex == '#0000ff'
  assert found.palette_json()['colours'][0] == {'colour': 'blue', 'en': 'blue', 'fr': 'bleu',
                                               'hex': '#0000ff', 'share': 1.0}


@pytest.mark.parametrize('rgb, en, fr', [
    ((255, 0, 0), 'red', 'rouge'), ((0, 255, 0), 'green', 'vert'),
    ((255, 255, 0), 'yellow', 'jaune'), ((255, 165, 0), 'orange', 'orange'),
    ((128, 0, 128), 'violet', 'violet'), ((139, 69, 19), 'brown', 'brun'),
    ((0, 0, 128), 'navy blue', 'bleu marine'), ((255, 192, 203), 'pink', 'rose'),
])
def test_fields_of_known_colours_are_named(rgb, en, fr):
  (swatch,) = palette.analyse(_field(rgb)).colours
  assert (swatch.colour.en, swatch.colour.fr) == (en, fr)


def test_two_colours_with_their_shares():
  image = _field((0, 0, 255), (40, 40))
  image[:, :10] = (250, 250, 245)  # a quarter white
  found = palette.analyse(image)
  assert [s.colour.key for s in found.colours] == ['blue', 'white']
  assert [s.share for s in found.colours] == pytest.approx([0.75, 0.25], abs=0.02)


def test_a_grey_scale_picture_has_no_colour():
  ramp = np.repeat(np.linspace(0, 255, 64 * 48).reshape(48, 64, 1), 3, -1).astype(np.uint8)
  found = palette.analyse(ramp)
  assert found.black_and_white and found.colours == ()
  assert found.palette_json() == {'black_and_white': True, 'colours': []}
  assert found.saturation == pytest.approx(0.0, abs=1e-6)


def test_light_of_black_white_and_a_half_and_half():
  assert palette.analyse(_field((0, 0, 0))).lightness == pytest.approx(0.0, abs=1e-6)
  assert palette.analyse(_field((255, 255, 255))).lightness == pytest.approx(1.0, abs=1e-4)
  half = _field((0, 0, 0), (8, 8))
  half[:, 4:] = 255
  found = palette.analyse(half)
  # L* is 0 and 100 on each half: mean 0.5, standard deviation 0.5 (in units of 100).
  assert (found.lightness, found.contrast) == pytest.approx((0.5, 0.5), abs=1e-4)
  assert set(found.light_json()) == {'lightness', 'contrast', 'saturation'}


def _save(tmp_path, name, image, **kwargs):
  path = str(tmp_path / name)
  image.save(path, **kwargs)
  return path


def test_every_mode_the_loader_accepts(tmp_path):
  grey = np.arange(40 * 30, dtype=np.uint8).reshape(30, 40)
  files = {
      'grey': _save(tmp_path, 'grey.png', Image.fromarray(grey)),
      'grey16': _save(tmp_path, 'grey16.png', Image.fromarray(grey.astype(np.uint16) * 257)),
      'grey_alpha': _save(tmp_path, 'la.png', Image.fromarray(grey).convert('LA')),
      'cmyk': _save(tmp_path, 'cmyk.jpg', Image.new('CMYK', (40, 30), (255, 255, 0, 0))),
      'rgba': _save(tmp_path, 'rgba.png', Image.new('RGBA', (40, 30), (0, 0, 255, 255))),
      'palette': _save(tmp_path, 'p.png', Image.new('RGB', (40, 30), (0, 0, 255)).convert(
          'P', palette=Image.Palette.ADAPTIVE)),
  }
  assert Image.open(files['grey16']).mode.startswith('I')
  found = {k: palette.analyse(images.load_rgb(p)) for k, p in files.items()}
  for key in ('grey', 'grey16', 'grey_alpha'):
    assert found[key].black_and_white and not found[key].colours, key
  for key in ('cmyk', 'rgba', 'palette'):  # C = M = 255: blue; the others are blue fields
    assert found[key].colours[0].colour.key == 'blue', key


@pytest.mark.parametrize('shape', [(1, 1), (1, 2000), (2000, 1), (3, 700)])
def test_one_pixel_and_elongated_images(shape):
  image = _field((200, 30, 30), shape)
  found = palette.analyse(image)
  assert found.colours[0].colour.key == 'red' and found.colours[0].share == 1.0
  noisy = np.random.default_rng(0).integers(0, 256, (*shape, 3)).astype(np.uint8)
  found = palette.analyse(noisy)
  shares = [s.share for s in found.colours]
  assert shares == sorted(shares, reverse=True) and sum(shares) <= 1 + 1e-9
  assert all(0 <= v <= 1 for v in found.light_json().values())


@pytest.mark.parametrize('bad', [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                                 np.zeros((0, 4, 3), np.uint8)])
def test_bad_arrays_are_refused(bad):
  with pytest.raises(ValueError, match='uint8'):
    palette.analyse(bad)
