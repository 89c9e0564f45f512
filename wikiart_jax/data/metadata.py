"""WikiArt metadata: class names, path parsing and vocabularies.

An ArtGAN WikiArt path looks like `Style/artist-slug_title-slug[-year][(n)].jpg`:
the folder is the style, the slug before the first `_` the artist, the rest the
title, an optional 4-digit year at its end and an optional `(n)` duplicate
counter. About 700 slugs are mojibake (UTF-8 bytes read as Latin-1, then
lower-cased, e.g. `grã©goire-michonze`); `repair_mojibake` undoes it.
"""

import dataclasses
import functools
import json
import os
import re
import unicodedata

from wikiart_jax.core import GENRES, STYLE_FOLDER_ALIASES, STYLES, TAGS, TASKS
from wikiart_jax.text import artist_names

# Years outside this range are catalogue numbers (`p-5533`), not dates.
MIN_YEAR, MAX_YEAR = 1000, 2030

# Lower-case title words unless first ("The Angel Appearing to the Shepherds").
_SMALL_WORDS = frozenset({
    'a', 'an', 'the', 'and', 'or', 'nor', 'but', 'of', 'in', 'on', 'at', 'to',
    'for', 'by', 'from', 'with', 'into', 'onto', 'upon', 'as', 'vs',
})
_ROMAN = re.compile(r'^(x{0,3})(ix|iv|v?i{0,3})$')
_DUPLICATE = re.compile(r'\(\d+\)$')
_YEAR = re.compile(r'-(\d{4})$')
_NO_TITLE = re.compile(r'^not[-_]detected([-_]\d+)*$')


@dataclasses.dataclass(frozen=True)
class ImageMeta:
  """What an ArtGAN path says about its image."""
  path: str  # as given, relative to the image root
  style: str  # a STYLES name
  artist_slug: str  # raw slug, e.g. 'claude-monet' (the artist class key)
  artist_name: str  # display name, e.g. 'Claude Monet'
  title: str | None  # 'Water Lilies'; None when the file has no title
  year: int | None


def _continuation(ch: str) -> bool:
  return '\x80' <= ch <= '\xbf'


def _decode_at(text: str, i: int) -> tuple[str, int] | None:
  """Decodes the damaged UTF-8 sequence starting at text[i], if there is one.

  Returns (character, length) or None. Longer sequences are tried first. A
  3- or 4-byte lead (0xE0-0xF4) reads as a lower-case letter already; a
  2-byte lead 0xC2-0xDF reads as an upper-case one, which the lower-casing
  moved to 0xE2-0xFF, so it is shifted back.
  """
  lead = ord(text[i])
  for length in (4, 3, 2):
    chunk = text[i:i + length]
    if len(chunk) < length or not all(map(_continuation, chunk[1:])):
      continue
    byte = lead - 0x20 if length == 2 and lead >= 0xe0 else lead
    try:
      return bytes([byte, *map(ord, chunk[1:])]).decode('utf-8'), length
    except UnicodeDecodeError:
      continue
  return None


def repair_mojibake(text: str) -> str:
  """Undoes UTF-8 read as Latin-1 then lower-cased; other text is unchanged.

  'grã©goire' -> 'grégoire'. A character that does not start a decodable
  UTF-8 sequence is kept as it is (it was genuine Latin-1 text).
  """
  if text.isascii():  # the common case, and 40x faster than the scan
    return text
  out, i = [], 0
  while i < len(text):
    found = _decode_at(text, i) if '\xc2' <= text[i] <= '\xff' else None
    if found:
      out.append(found[0].lower())
      i += found[1]
    else:
      out.append(text[i])
      i += 1
  return unicodedata.normalize('NFC', ''.join(out))


@functools.lru_cache(maxsize=4096)  # ~1,100 artists, each met ~70 times
def artist_display_name(slug: str, lang: str = 'en') -> str:
  """'albrecht-durer' -> 'Albrecht Dürer': repairs mojibake, then text/artist_names.py
  (the table of proper names, rules for the others); `lang` 'fr' gives French usage."""
  return artist_names.display_name(repair_mojibake(slug), lang)


def title_from_slug(slug: str) -> str | None:
  """'the-artist-s-son' -> "The Artist's Son"; None for an empty slug.

  The slug lost its apostrophes to `-`, so a lone 's'/'t' rejoins its word.
  """
  words = artist_names.slug_words(repair_mojibake(slug))
  merged = []
  for word in words:
    if word in ('s', 't') and merged and merged[-1][-1:].isalpha():
      merged[-1] += "'" + word
    else:
      merged.append(word)
  out = []
  for i, word in enumerate(merged):
    if i and word in _SMALL_WORDS:
      out.append(word)
    elif _ROMAN.match(word) and len(word) > 1:
      out.append(word.upper())
    else:
      out.append(artist_names.capitalize_word(word))
  return ' '.join(out) or None


def split_title_year(title_slug: str) -> tuple[str, int | None]:
  """Strips the duplicate counter and a plausible trailing year from a slug."""
  slug = _DUPLICATE.sub('', title_slug)
  match = _YEAR.search(slug)
  if match and MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
    return slug[:match.start()], int(match.group(1))
  return slug, None


def title_and_year(file_name: str) -> tuple[str | None, int | None]:
  """Title and year of an `artist-slug_title-slug[-year][(n)].jpg` file name.

  Needs no style folder, so it also reads user files and parquet paths;
  (None, None) for a name without an `artist_title` part.
  """
  stem = os.path.splitext(os.path.basename(file_name))[0]
  artist_slug, sep, title_slug = stem.partition('_')
  if not sep or not artist_slug:
    return None, None
  slug, year = split_title_year(title_slug)
  return (None if _NO_TITLE.match(slug) else title_from_slug(slug)), year


def canonical_style(folder: str) -> str:
  """Maps a style folder name to its STYLES name; ValueError if unknown."""
  style = STYLE_FOLDER_ALIASES.get(folder, folder)
  if style not in STYLES:
    raise ValueError(f'unknown WikiArt style folder {folder!r}')
  return style


def parse_path(rel_path: str) -> ImageMeta:
  """Parses `Style/artist-slug_title-slug[-year][(n)].jpg`.

  Raises:
    ValueError: the path is not in that form or names an unknown style.
  """
  parts = rel_path.replace('\\', '/').strip('/').split('/')
  if len(parts) < 2:
    raise ValueError(f'not a Style/artist_title path: {rel_path!r}')
  artist_slug, sep, _ = os.path.splitext(parts[-1])[0].partition('_')
  if not sep or not artist_slug:
    raise ValueError(f'no artist_title in file name: {rel_path!r}')
  title, year = title_and_year(parts[-1])
  return ImageMeta(
      path=rel_path, style=canonical_style(parts[-2]), artist_slug=artist_slug,
      artist_name=artist_display_name(artist_slug), title=title, year=year)


@dataclasses.dataclass
class Vocabularies:
  """Name lists per task; a name's index is its class id and never changes."""
  style: list[str]
  artist: list[str]  # slugs
  genre: list[str]
  artist_names: list[str]  # display names, parallel to `artist`
  # Content-tag keys (text/subjects.py) when the dataset has tag targets, else empty.
  tags: list[str] = dataclasses.field(default_factory=list)

  def __post_init__(self):
    if len(self.artist) != len(self.artist_names):
      raise ValueError(f'{len(self.artist)} artists but '
                       f'{len(self.artist_names)} artist names')
    # The table of proper names is the authority, also over names an older run saved.
    table = artist_names.table()
    self.artist_names = [table[repair_mojibake(slug)][0] if repair_mojibake(slug) in table
                         else name for slug, name in zip(self.artist, self.artist_names)]
    for task in (*TASKS, TAGS):
      names = getattr(self, task)
      if len(set(names)) != len(names):
        raise ValueError(f'duplicate names in the {task} vocabulary')

  @classmethod
  def build(cls, artists, *, styles=STYLES, genres=GENRES) -> 'Vocabularies':
    """Builds from (slug, display name) pairs: artists sorted by slug.

    Styles and genres keep the given order, so ArtGAN's class ids are ours.
    """
    names = {}
    for slug, name in artists:
      names.setdefault(slug, name or artist_display_name(slug))
    slugs = sorted(names)
    return cls(style=list(styles), artist=slugs, genre=list(genres),
               artist_names=[names[s] for s in slugs])

  def artist_name(self, index: int, lang: str = 'en') -> str:
    """The display name of artist `index` in `lang` (French usage where it differs)."""
    if lang == 'fr':
      entry = artist_names.table().get(repair_mojibake(self.artist[index]))
      if entry and entry[1]:
        return entry[1]
    return self.artist_names[index]

  @property
  def num_classes(self) -> dict[str, int]:
    return {task: len(getattr(self, task)) for task in TASKS}

  def index(self, task: str, name: str | None) -> int:
    """Class id of `name` in `task`; -1 for None or a name not in the list."""
    if name is None:
      return -1
    lookup = self.__dict__.setdefault('_lookup', {})
    if task not in lookup:
      lookup[task] = {n: i for i, n in enumerate(getattr(self, task))}
    return lookup[task].get(name, -1)

  def to_json(self, path: str) -> None:
    data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
    with open(path, 'w', encoding='utf-8') as f:
      json.dump(data, f, ensure_ascii=False, indent=1)

  @classmethod
  def from_json(cls, path: str) -> 'Vocabularies':
    with open(path, encoding='utf-8') as f:
      data = json.load(f)
    # Files written before the tag task have no 'tags': a dataset without tag targets.
    missing = {f.name for f in dataclasses.fields(cls)} - set(data) - {TAGS}
    if missing:
      raise ValueError(f'{path}: vocabulary file lacks {sorted(missing)}')
    return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})
