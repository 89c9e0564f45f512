"""The facts a caller supplies about its images: a title and an exact year, never guessed.

A description names a title or a year only when they come from here:

  - `config.predict.metadata`: a CSV with the columns path,title,year (year may be
    empty); paths as given to predict, or absolute;
  - `config.predict.titles_from_wikiart_names=True`: the title and year that a
    file name in WikiArt's `Style/artist-slug_title-slug-year.jpg` layout spells,
    for files that really sit in a WikiArt style folder.

An arbitrary file name says nothing: `the_scream.jpg` gets no title and no year,
and neither does `escher_sphere.jpg`.
"""

from __future__ import annotations

import csv
import os

import ml_collections

from wikiart_jax.data import metadata


def wikiart_title_and_year(path: str) -> tuple[str | None, int | None]:
  """(title, year) of a file in a WikiArt style folder; (None, None) for any other path."""
  parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
  try:
    meta = metadata.parse_path(f'{parent}/{os.path.basename(path)}')
  except ValueError:  # not a style folder, or no artist_title name
    return None, None
  return meta.title, meta.year


def read_metadata_csv(csv_path: str) -> dict[str, tuple[str | None, int | None]]:
  """{absolute path: (title, year)} from a path,title,year CSV.

  Raises:
    FileNotFoundError: no such file.
    ValueError: a missing column or a year that is not a whole number, naming the row.
  """
  if not os.path.isfile(csv_path):
    raise FileNotFoundError(f'config.predict.metadata: {csv_path} does not exist')
  out = {}
  with open(csv_path, newline='', encoding='utf-8-sig') as f:
    reader = csv.DictReader(f)
    missing = {'path', 'title', 'year'} - set(reader.fieldnames or ())
    if missing:
      raise ValueError(f'config.predict.metadata: {csv_path} lacks the columns '
                       f'{sorted(missing)} (expected path,title,year)')
    for line, row in enumerate(reader, start=2):
      year_text = (row['year'] or '').strip()
      try:
        year = int(year_text) if year_text else None
      except ValueError:
        raise ValueError(f'config.predict.metadata: {csv_path} line {line}: year '
                         f'{year_text!r} is not a whole number') from None
      out[os.path.abspath(row['path'].strip())] = ((row['title'] or '').strip() or None, year)
  return out


class Supplied:
  """Looks up what the caller says about an image file (`config.predict`)."""

  def __init__(self, predict_config: ml_collections.ConfigDict):
    self._table = (read_metadata_csv(predict_config.metadata)
                   if predict_config.metadata else {})
    self._from_names = bool(predict_config.titles_from_wikiart_names)

  def title_and_year(self, path: str | None) -> tuple[str | None, int | None]:
    """(title, year) for an image path; (None, None) when nothing is supplied."""
    if not path:
      return None, None
    found = self._table.get(os.path.abspath(path))
    if found is not None:
      return found
    return wikiart_title_and_year(path) if self._from_names else (None, None)
