"""Embedded synthetic WikiArt: small procedural paintings in the real ArtGAN layout.

Each picture carries its three labels in independent visual cues that a tiny ViT
learns from 32-px crops in minutes: the style is the brush texture (27 textures),
the genre the composition (10 layouts of up to four colour roles), the artist the
palette (a hue pair per artist; colour jitter keeps hue, so palettes survive it).
The compositions draw recognisable subjects (a sea and a boat, trees, a house, a
figure, flowers, a sun or a night sky ...), some by chance, and `tags.csv` lists
exactly those of each picture: the content tags' ground truth (text/subjects.py
keys). Years, where a name has one, fall in the artist's working life, so each
style's pictures date from its real period.
Files, names and split files follow the real ArtGAN tree, so the real reader
ingests them unchanged, including its odd cases (no year, `(1)` duplicates,
`not_detected_<id>` titles, images without a genre row).
"""

import os

import numpy as np
from PIL import Image

from wikiart_jax import atomic
from wikiart_jax.core import GENRES, STYLE_FOLDER_ALIASES, STYLES
from wikiart_jax.data import synthetic_paint
from wikiart_jax.data import tag_targets

# Written last and whole by `render_dataset`: a tree without it is unfinished.
COMPLETE_FILE = 'style_train.csv'

# Real WikiArt artists, two per style, as `slug:active years:palette hues (degrees)`;
# the hues were searched so that artists sharing a style sit >= 80 degrees apart.
_ARTIST_TABLE = """
Abstract_Expressionism willem-de-kooning:1940-1985:280/200 sam-francis:1947-1994:0/80
Action_painting jackson-pollock:1934-1956:200/40 franz-kline:1940-1962:280/0
Analytical_Cubism pablo-picasso:1901-1972:40/320 georges-braque:1906-1963:280/160
Art_Nouveau aubrey-beardsley:1891-1898:40/280 ivan-bilibin:1899-1942:120/0
Baroque rembrandt:1625-1669:80/240 peter-paul-rubens:1598-1640:200/120
Color_Field_Painting mark-rothko:1949-1970:280/120 barnett-newman:1946-1970:80/320
Contemporary_Realism jamie-wyeth:1963-2015:120/240 eric-fischl:1979-2015:40/200
Cubism fernand-leger:1909-1955:240/120 jean-metzinger:1910-1956:320/200
Early_Renaissance fra-angelico:1418-1455:320/120 sandro-botticelli:1470-1510:240/320
Expressionism ernst-ludwig-kirchner:1905-1938:80/0 amedeo-modigliani:1908-1920:160/80
Fauvism henri-matisse:1904-1954:320/160 ilya-mashkov:1908-1944:120/320
High_Renaissance raphael:1500-1520:80/160 leonardo-da-vinci:1472-1519:160/240
Impressionism claude-monet:1864-1926:280/80 pierre-auguste-renoir:1864-1919:0/120
Mannerism_Late_Renaissance el-greco:1567-1614:120/200 tintoretto:1540-1594:320/240
Minimalism agnes-martin:1957-2004:160/40 robert-ryman:1955-2019:40/160
Naive_Art_Primitivism marc-chagall:1911-1985:80/280 niko-pirosmani:1895-1918:320/40
New_Realism edward-hopper:1920-1965:200/320 john-french-sloan:1905-1951:280/40
Northern_Renaissance albrecht-durer:1490-1528:200/280 hieronymus-bosch:1475-1516:0/160
Pointillism georges-seurat:1883-1891:240/40 paul-signac:1886-1935:160/320
Pop_Art andy-warhol:1958-1987:240/80 roy-lichtenstein:1961-1997:160/0
Post_Impressionism vincent-van-gogh:1881-1890:0/280 paul-cezanne:1866-1906:80/200
Realism ilya-repin:1865-1930:200/0 ivan-shishkin:1855-1898:120/40
Rococo thomas-gainsborough:1745-1788:320/80 giovanni-battista-tiepolo:1716-1770:240/0
Romanticism ivan-aivazovsky:1835-1900:40/120 francisco-goya:1780-1828:200/80
Symbolism odilon-redon:1870-1916:0/240 nicholas-roerich:1897-1947:240/160
Synthetic_Cubism juan-gris:1911-1927:160/280 gino-severini:1910-1966:0/200
Ukiyo_e katsushika-hokusai:1780-1849:40/240 utagawa-kuniyoshi:1814-1861:120/280
"""
# Artists who also worked in a second style; they paint fewer pictures there.
_GUEST_STYLE = {
    'sam-francis': 'Color_Field_Painting', 'jackson-pollock': 'Abstract_Expressionism',
    'pablo-picasso': 'Cubism', 'georges-braque': 'Synthetic_Cubism', 'juan-gris': 'Cubism',
    'fernand-leger': 'Naive_Art_Primitivism', 'henri-matisse': 'Expressionism',
    'leonardo-da-vinci': 'Early_Renaissance', 'vincent-van-gogh': 'Realism',
    'nicholas-roerich': 'Art_Nouveau',
}


def _parse_artists(table):
  """slug -> ((first, last year), styles with the main one first, (hue1, hue2))."""
  artists = {}
  for line in table.strip().splitlines():
    style, *entries = line.split()
    for entry in entries:
      slug, years, hues = entry.split(':')
      styles = (style,) + ((_GUEST_STYLE[slug],) if slug in _GUEST_STYLE else ())
      artists[slug] = (tuple(map(int, years.split('-'))), styles,
                       tuple(map(int, hues.split('/'))))
  return artists


_ARTISTS = _parse_artists(_ARTIST_TABLE)

_TITLES = {
    'abstract_painting': ('untitled', 'composition', 'abstraction', 'rhythm', 'number-7'),
    'cityscape': ('the-bridge', 'street-in-the-rain', 'the-harbour', 'rooftops', 'the-boulevard'),
    'genre_painting': ('the-dance', 'market-day', 'the-card-players', 'at-the-cafe', 'the-harvest'),
    'illustration': ('illustration-for-a-fairy-tale', 'the-firebird', 'book-cover', 'poster'),
    'landscape': ('the-river', 'morning-mist', 'fields', 'the-hills', 'sunset', 'the-seashore'),
    'nude_painting': ('reclining-nude', 'bather', 'nude-in-the-studio', 'venus', 'model-resting'),
    'portrait': ('portrait-of-a-woman', 'portrait-of-a-man', 'self-portrait', 'young-girl'),
    'religious_painting': ('madonna-and-child', 'the-annunciation', 'saint-jerome', 'pieta'),
    'sketch_and_study': ('study-for-a-figure', 'sketch', 'study-of-hands', 'head-study'),
    'still_life': ('still-life-with-apples', 'flowers-in-a-vase', 'lemons', 'sunflowers'),
}
_YEAR_FRACTION = 0.55  # as in real WikiArt, where 56% of file names end in a year
_GENRE_MISSING = 0.1  # real WikiArt lacks 20%; fewer here so the genre head has data
_DUPLICATE_EVERY = 40  # about one `(1)` name per this many images


def paint(style: str, artist_slug: str, genre: str, size: int,
          rng: np.random.Generator) -> np.ndarray:
  """Paints one picture of a synthetic artist: uint8 [size, size, 3].

  Args:
    style: a STYLES name (picks the texture).
    artist_slug: a synthetic artist's slug (picks the palette).
    genre: a GENRES name (picks the composition).
    size: side in pixels.
    rng: np.random.Generator for everything random in the picture.
  """
  return paint_with_subjects(style, artist_slug, genre, size, rng)[0]


def paint_with_subjects(style: str, artist_slug: str, genre: str, size: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, tuple[str, ...]]:
  """`paint`, and the keys of the subjects it drew (sorted)."""
  if artist_slug not in _ARTISTS:
    raise ValueError(f'no synthetic artist {artist_slug!r}')
  return synthetic_paint.paint_picture(style, genre, _ARTISTS[artist_slug][2], size, rng)


def _title_slug(genre, artist_slug, rng):
  """A title slug with an optional year suffix, e.g. 'the-river-1872'."""
  title = _TITLES[genre][rng.integers(len(_TITLES[genre]))]
  if rng.random() < _YEAR_FRACTION:
    first, last = _ARTISTS[artist_slug][0]
    title += f'-{rng.integers(first, last + 1)}'
  return title


def _style_folder(style):
  """The folder a style's images live in (real WikiArt names some differently)."""
  aliases = {name: folder for folder, name in STYLE_FOLDER_ALIASES.items()}
  return aliases.get(style, style)


def render_dataset(out_dir: str, *, images_per_style: int, image_size: int, seed: int,
                   val_fraction: float = 0.3) -> dict[str, int]:
  """Renders the synthetic WikiArt tree and its ArtGAN split files into out_dir.

  Writes `<Style>/<artist-slug>_<title-slug>[-<year>][(n)].jpg` (JPEG quality 95),
  style_class.txt / genre_class.txt (`index Name`), style_{train,val}.csv /
  genre_{train,val}.csv (`path,index`) and tags.csv (`path,tags`: the subjects
  drawn, ';'-separated). About 10% of the images have no genre row.
  The same arguments always give the same bytes.

  Args:
    out_dir: folder to write into (created if needed).
    images_per_style: pictures per style, split into train and val.
    image_size: side of the square pictures in pixels.
    seed: seed of everything random.
    val_fraction: share of each style's pictures in the val split.

  Returns:
    Counts: {'train': n, 'val': n, 'genre_train': n, 'genre_val': n, 'artists': n}.
  """
  if images_per_style < 2:
    raise ValueError(f'images_per_style must be >= 2, got {images_per_style}')
  if image_size < 16:
    raise ValueError(f'image_size must be >= 16, got {image_size}')
  if not 0 < val_fraction < 1:
    raise ValueError(f'val_fraction must be in (0, 1), got {val_fraction}')
  rows = {name: [] for name in ('style_train', 'style_val', 'genre_train', 'genre_val')}
  drawn = {}
  artists_seen = set()
  n = images_per_style
  n_val = min(max(1, round(val_fraction * n)), n - 1)
  for si, style in enumerate(STYLES):
    rng = np.random.default_rng([seed, si])
    candidates = [(slug, 1.0 if styles[0] == style else 0.5)  # guests paint less
                  for slug, (_, styles, _) in _ARTISTS.items() if style in styles]
    weights = np.array([w for _, w in candidates])
    artists = rng.choice(len(candidates), n, p=weights / weights.sum())
    genres = rng.permutation(np.arange(n) % len(GENRES))  # balanced, independent of style
    is_val = np.isin(np.arange(n), rng.permutation(n)[:n_val])
    no_genre = np.isin(np.arange(n), rng.permutation(n)[:round(_GENRE_MISSING * n)])
    folder = _style_folder(style)
    os.makedirs(os.path.join(out_dir, folder), exist_ok=True)
    used, last_stem = set(), {}
    for j in range(n):
      artist, genre = candidates[artists[j]][0], GENRES[genres[j]]
      title = _title_slug(genre, artist, rng)
      if si == 0 and j == 0:  # the real set has ~500 files whose title was not found
        title = f'not_detected_{rng.integers(200000, 300000)}'
      if artist in last_stem and (si * n + j) % _DUPLICATE_EVERY == _DUPLICATE_EVERY // 2:
        stem, k = last_stem[artist], 1  # a second scan of the artist's previous picture
        while f'{stem}({k})' in used:
          k += 1
        stem = f'{stem}({k})'
      else:  # a title used twice is numbered `-2`, `-3` ..., as WikiArt does
        stem, k = f'{artist}_{title}', 2
        while stem in used:
          stem, k = f'{artist}_{title}-{k}', k + 1
        last_stem[artist] = stem
      used.add(stem)
      artists_seen.add(artist)
      path = f'{folder}/{stem}.jpg'
      pixels, drawn[path] = paint_with_subjects(style, artist, genre, image_size,
                                                np.random.default_rng([seed, si, j]))
      Image.fromarray(pixels).save(os.path.join(out_dir, path), quality=95)
      split = 'val' if is_val[j] else 'train'
      rows[f'style_{split}'].append(f'{path},{si}')
      if not no_genre[j]:
        rows[f'genre_{split}'].append(f'{path},{genres[j]}')
  for name, classes in (('style', STYLES), ('genre', GENRES)):
    atomic.write_text(os.path.join(out_dir, f'{name}_class.txt'),
                      ''.join(f'{i} {c}\n' for i, c in enumerate(classes)))
  tag_targets.write_labels(os.path.join(out_dir, tag_targets.LABELS_FILE), drawn)
  # COMPLETE_FILE last: its presence says that the tree is complete (prepare reads it so).
  for name in sorted(rows, key=lambda n: f'{n}.csv' == COMPLETE_FILE):
    atomic.write_text(os.path.join(out_dir, f'{name}.csv'),
                      ''.join(line + '\n' for line in rows[name]))
  return {'train': len(rows['style_train']), 'val': len(rows['style_val']),
          'genre_train': len(rows['genre_train']), 'genre_val': len(rows['genre_val']),
          'artists': len(artists_seen)}
