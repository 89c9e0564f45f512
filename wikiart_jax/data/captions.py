"""Caption targets from labels: several grammatical templates per language, ArtEmis optional.

Every image gets reference descriptions built from its style, artist, genre,
year and title (each may be unknown), in English and French. Template 0 is
`description.describe` (what the demo prints); the others reorder the facts and
use the same word tables, so metrics see several phrasings per image, e.g.

  "A landscape in the Impressionist style by Claude Monet, 1919, titled 'Water Lilies'."
  "Un paysage de Claude Monet (1919), de style impressionniste, intitulé « Nymphéas »."

French agrees participles with the genre noun's gender (read from its article:
"une nature morte intitulée"), contracts de + le into du, and elides de before a
vowel or a mute h. Optional ArtEmis utterances (English; CSV columns art_style,
painting, emotion, utterance) are joined on the image path
`<art_style>/<painting>.jpg` and replace the English target at `artemis_ratio`.

`CaptionTransform` is the grain map that turns a decoded example's labels into
int32 'caption_tokens' / 'caption_mask' [max_len] and 'caption_lang' (0 en, 1 fr).
A caption is BOS, a language tag ("en:" / "fr:"), the sentence, EOS, padding:
the tag is the generation prompt that picks the language, so the mask (the
loss weights) is 1 on the sentence and EOS only.
"""

from __future__ import annotations

import csv
import os
from typing import Callable, Mapping, Sequence

import grain
import numpy as np

from wikiart_jax import description
from wikiart_jax.data.metadata import STYLE_FOLDER_ALIASES
from wikiart_jax.description import french_de, indefinite_article
from wikiart_jax.data.tokenizer import special_ids

LANGUAGES = ('en', 'fr')
LANG_TAGS = {'en': 'en:', 'fr': 'fr:'}
NBSP = description.NBSP


def _quote_fr(title: str) -> str:
  return f'«{NBSP}{title}{NBSP}»'


def _cap(text: str) -> str:
  return text[:1].upper() + text[1:]


def _genre_fr(genre: str | None) -> tuple[str, bool]:
  """(noun phrase with its indefinite article, feminine?)."""
  phrase = description.GENRE_FR[genre] if genre else 'une œuvre'
  return phrase, phrase.startswith('une ')


def _of_fr(noun_phrase: str) -> str:
  """French "de" before a noun with its article: de + le -> du; de la, de l'."""
  return 'du ' + noun_phrase[3:] if noun_phrase.startswith('le ') else 'de ' + noun_phrase


def _en_style_genre(style, artist, genre, year, title) -> str:
  noun = description.GENRE_EN[genre] if genre else 'work'
  text = f'{indefinite_article(noun)} {noun} in the {description.STYLE_EN[style]} style'
  if artist:
    text += f' by {artist}'
  if year is not None:
    text += f', {year}'
  if title:
    text += f", titled '{title}'"
  return _cap(text) + '.'


def _en_this_is(style, artist, genre, year, title) -> str:
  adjective = description.STYLE_EN[style]
  noun = description.GENRE_EN[genre] if genre else 'painting'
  text = f'this {noun} is {indefinite_article(adjective)} {adjective} work'
  if artist:
    text += f' by {artist}'
  if year is not None:
    text += f' from {year}'
  if title:
    text += f", titled '{title}'"
  return _cap(text) + '.'


def _fr_genre_first(style, artist, genre, year, title) -> str:
  phrase, feminine = _genre_fr(genre)
  text = phrase
  if artist:
    text += f' {french_de(artist)}'
  if year is not None:
    text += f' ({year})'
  # "Une œuvre de style cubiste", but "Un paysage de Claude Monet (1919), de style ...".
  text += f"{', ' if artist or year is not None else ' '}de style {description.STYLE_FR[style]}"
  if title:
    text += f', intitulé{"e" if feminine else ""} {_quote_fr(title)}'
  return _cap(text) + '.'


def _fr_movement(style, artist, genre, year, title) -> str:
  phrase, feminine = _genre_fr(genre)
  e = 'e' if feminine else ''
  movement = _of_fr(description.STYLE_FR_NOUN[style])
  text = f'{phrase} représentati{"ve" if feminine else "f"} {movement}'
  if artist:
    text += f', réalisé{e} par {artist}'
    if year is not None:
      text += f' en {year}'
  elif year is not None:
    text += f', réalisé{e} en {year}'
  if title:
    text += f' et intitulé{e} {_quote_fr(title)}'
  return _cap(text) + '.'


def _describe(lang: str) -> Callable[..., str]:
  def template(style, artist, genre, year, title):
    return description.describe(style, artist, genre, year=year, title=title, lang=lang)
  return template


TEMPLATES: dict[str, tuple[Callable[..., str], ...]] = {
    'en': (_describe('en'), _en_style_genre, _en_this_is),
    'fr': (_describe('fr'), _fr_genre_first, _fr_movement),
}


def _facts(style, artist_name, genre, year, title):
  """Normalises unknowns (None, '', -1) and checks the names against the word tables."""
  style = STYLE_FOLDER_ALIASES.get(style, style)
  if style not in description.STYLE_EN:
    raise ValueError(f"unknown style {style!r}: expected an ArtGAN style, e.g. 'Impressionism'")
  if genre and genre not in description.GENRE_EN:
    raise ValueError(f'unknown genre {genre!r}: expected one of {sorted(description.GENRE_EN)}')
  year = None if year is None or int(year) < 0 else int(year)
  artist = (artist_name or '').strip() or None
  title = (title or '').strip() or None
  return style, artist, genre or None, year, title


def references(style: str, artist_name: str | None, genre: str | None, year: int | None,
               title: str | None, *, utterances: Sequence[str] = ()) -> dict[str, list[str]]:
  """Every template's sentence per language (the references of the caption metrics).

  Args:
    style: ArtGAN style name.
    artist_name: display name or None.
    genre: ArtGAN genre name or None.
    year: year, or None / -1 when unknown.
    title: title or None.
    utterances: ArtEmis utterances of this painting, added to the English references.

  Returns:
    {'en': [...], 'fr': [...]}, duplicates removed, template order kept.
  """
  facts = _facts(style, artist_name, genre, year, title)
  out = {}
  for lang, templates in TEMPLATES.items():
    sentences = [t(*facts) for t in templates]
    if lang == 'en':
      sentences += [u.strip() for u in utterances if u.strip()]
    out[lang] = list(dict.fromkeys(sentences))
  return out


def sample_target(style: str, artist_name: str | None, genre: str | None, year: int | None,
                  title: str | None, *, rng: np.random.Generator, lang: str,
                  utterances: Sequence[str] = (), artemis_ratio: float = 0.0) -> str:
  """One teacher-forcing target: a random template of `lang` (or, in English, an
  ArtEmis utterance with probability `artemis_ratio` when the painting has some)."""
  if lang not in TEMPLATES:
    raise ValueError(f"caption language must be one of {LANGUAGES}, got {lang!r}")
  facts = _facts(style, artist_name, genre, year, title)
  if lang == 'en' and utterances and rng.random() < artemis_ratio:
    return str(utterances[rng.integers(len(utterances))]).strip()
  templates = TEMPLATES[lang]
  return templates[rng.integers(len(templates))](*facts)


def load_artemis(csv_path: str) -> dict[str, list[str]]:
  """ArtEmis CSV -> {'<art_style>/<painting>.jpg': [utterance, ...]}."""
  if not os.path.isfile(csv_path):
    raise FileNotFoundError(f'ArtEmis CSV {csv_path!r} does not exist')
  out: dict[str, list[str]] = {}
  with open(csv_path, newline='', encoding='utf-8') as f:
    reader = csv.DictReader(f)
    missing = {'art_style', 'painting', 'utterance'} - set(reader.fieldnames or ())
    if missing:
      raise ValueError(f'{csv_path}: ArtEmis CSV lacks columns {sorted(missing)}')
    for row in reader:
      text = (row['utterance'] or '').strip()
      if text:
        out.setdefault(f"{row['art_style']}/{row['painting']}.jpg", []).append(text)
  return out


def _text(value) -> str:
  if isinstance(value, np.ndarray):
    value = value.item()
  return value.decode('utf-8') if isinstance(value, bytes) else str(value or '')


def prompt_ids(tokenizer, lang: str) -> list[int]:
  """BOS + the language tag: the teacher-forcing prefix and the generation prompt."""
  if lang not in LANG_TAGS:
    raise ValueError(f'caption language must be one of {LANGUAGES}, got {lang!r}')
  return [special_ids(tokenizer).bos, *tokenizer.encode(LANG_TAGS[lang],
                                                        add_special_tokens=False)]


def label_facts(vocab, example: Mapping) -> tuple | None:
  """(style, artist name, genre, year, title) from an example's int labels; None for a
  padding row (style -1)."""
  s = int(example['style'])
  if s < 0:
    return None
  a, g, y = int(example['artist']), int(example['genre']), int(example['year'])
  return (vocab.style[s], vocab.artist_names[a] if a >= 0 else None,
          vocab.genre[g] if g >= 0 else None, y if y >= 0 else None,
          _text(example.get('title', '')) or None)


def batch_references(vocab, batch: Mapping, *,
                     artemis: Mapping[str, Sequence[str]] | None = None) -> list:
  """Per row of an eval batch, `references(...)` (None for padding rows)."""
  out = []
  for i in range(len(batch['style'])):
    row = {k: batch[k][i] for k in ('style', 'artist', 'genre', 'year', 'title', 'path')
           if k in batch}
    facts = label_facts(vocab, row)
    extra = (artemis or {}).get(_text(row.get('path', '')), ())
    out.append(None if facts is None else references(*facts, utterances=extra))
  return out


_ENCODED_CACHE_SIZE = 200_000  # tokenised targets kept per transform (~40 MB at max_len 48)


class CaptionTransform(grain.transforms.RandomMap):
  """Adds 'caption_tokens', 'caption_mask' [max_len] and 'caption_lang' to an example.

  'caption_mask' is 1 on the tokens to predict (sentence and EOS), 0 on BOS, the
  language tag and padding: pass it to `models.captioner.caption_loss`.

  The example needs int labels 'style', 'artist', 'genre', 'year' (-1 unknown)
  and may carry 'title' and 'path' (bytes or str); those two are removed from the
  output (when `drop_text`) so batches stay numeric. A padding row (style -1)
  gets an all-zero mask. Picklable (grain workers): the tokenizer is reloaded
  from `tokenizer_source` when given as a string.
  """

  def __init__(self, vocab, tokenizer, *, max_len: int, languages: Sequence[str] = LANGUAGES,
               artemis: Mapping[str, Sequence[str]] | None = None,
               artemis_ratio: float = 0.0, drop_text: bool = True):
    if max_len < 3:
      raise ValueError(f'caption max_len must be >= 3 (BOS, a token, EOS), got {max_len}')
    unknown = set(languages) - set(LANGUAGES)
    if not languages or unknown:
      raise ValueError(f'caption languages must be a non-empty subset of {LANGUAGES}, '
                       f'got {list(languages)}')
    self.vocab = vocab
    self.tokenizer_source = tokenizer if isinstance(tokenizer, str) else None
    self._tokenizer = None if isinstance(tokenizer, str) else tokenizer
    self.max_len = max_len
    self.languages = tuple(languages)
    self.artemis = dict(artemis or {})
    self.artemis_ratio = float(artemis_ratio)
    self.drop_text = drop_text
    # Each image has a handful of possible targets, seen again every epoch: tokenise
    # each once (about a quarter of the demo's input-pipeline time otherwise).
    self._encoded: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

  @property
  def tokenizer(self):
    if self._tokenizer is None:
      from wikiart_jax.data.tokenizer import load_tokenizer  # pylint: disable=g-import-not-at-top
      self._tokenizer = load_tokenizer(self.tokenizer_source)
    return self._tokenizer

  def __getstate__(self):
    state = dict(self.__dict__)
    state['_encoded'] = {}
    if self.tokenizer_source is not None:
      state['_tokenizer'] = None  # reloaded in the worker
    return state

  def encode(self, text: str, lang: str) -> tuple[np.ndarray, np.ndarray]:
    """[BOS, tag, sentence..., EOS, pad...] cut to max_len (EOS kept): (ids, loss mask)."""
    key = (text, lang)
    cached = self._encoded.get(key)  # one lookup: grain's threads share the dict
    if cached is None:
      if len(self._encoded) >= _ENCODED_CACHE_SIZE:
        self._encoded.clear()  # bounded memory on the full dataset's ~500k targets
      cached = self._encoded[key] = self._encode(text, lang)
    return cached[0].copy(), cached[1].copy()

  def _encode(self, text: str, lang: str) -> tuple[np.ndarray, np.ndarray]:
    prompt = prompt_ids(self.tokenizer, lang)
    room = self.max_len - len(prompt) - 1
    if room < 1:
      raise ValueError(f'caption max_len {self.max_len} leaves no room after the prompt')
    body = self.tokenizer.encode(' ' + text, add_special_tokens=False)[:room]
    seq = [*prompt, *body, special_ids(self.tokenizer).eos]
    tokens = np.full((self.max_len,), special_ids(self.tokenizer).pad, np.int32)
    tokens[:len(seq)] = seq
    mask = np.zeros((self.max_len,), np.int32)
    mask[len(prompt):len(seq)] = 1
    return tokens, mask

  def random_map(self, element, rng: np.random.Generator):
    out = dict(element)
    path = _text(out.pop('path', '')) if self.drop_text else _text(out.get('path', ''))
    if self.drop_text:
      out.pop('title', None)
    facts = label_facts(self.vocab, element)
    lang = self.languages[rng.integers(len(self.languages))]
    if facts is None:
      tokens = np.full((self.max_len,), special_ids(self.tokenizer).pad, np.int32)
      mask = np.zeros((self.max_len,), np.int32)
    else:
      text = sample_target(*facts, rng=rng, lang=lang, utterances=self.artemis.get(path, ()),
                           artemis_ratio=self.artemis_ratio)
      tokens, mask = self.encode(text, lang)
    out.update(caption_tokens=tokens, caption_mask=mask,
               caption_lang=np.int32(LANGUAGES.index(lang)))
    return out


def training_texts(vocab, *, years: Sequence[int] = (1500, 1750, 1880, 1919),
                   titles: Sequence[str] = ('Nymphéas', 'The Wave', "L'Été")) -> list[str]:
  """Sentences covering every style, genre and artist name of `vocab` in both languages:
  the training corpus of the demo tokenizer (titles only need representative characters)."""
  texts = []
  for i, style in enumerate(vocab.style):
    for j, genre in enumerate([None, *vocab.genre]):
      artist = vocab.artist_names[(i + j) % len(vocab.artist_names)] if vocab.artist_names else None
      refs = references(style, artist, genre, years[(i + j) % len(years)],
                        titles[(i + j) % len(titles)])
      texts += refs['en'] + refs['fr']
  texts += [f'{LANG_TAGS[l]} {name}' for l in LANGUAGES for name in vocab.artist_names]
  return texts


def tokenizer_source(caption_config, vocab, workdir: str) -> str:
  """`caption_config.tokenizer` ('hf:<id>' or a folder), or, when it is '', the folder
  of the demo BPE, built once in <workdir>/caption_tokenizer from `training_texts(vocab)`.

  A source string (not a tokenizer object) keeps `CaptionTransform` cheap to pickle.
  """
  if caption_config.tokenizer:
    return caption_config.tokenizer
  folder = os.path.join(workdir, 'caption_tokenizer')
  if not os.path.isfile(os.path.join(folder, 'tokenizer.json')):
    from wikiart_jax.data import tokenizer as tok_lib  # pylint: disable=g-import-not-at-top
    tok_lib.build_demo_tokenizer(folder, training_texts(vocab))
  return folder


def make_transform(caption_config, vocab, tokenizer) -> CaptionTransform:
  """The CaptionTransform of `config.data.caption` (max_len, languages, artemis_*)."""
  artemis = load_artemis(caption_config.artemis_csv) if caption_config.artemis_csv else None
  return CaptionTransform(vocab, tokenizer, max_len=caption_config.max_len,
                          languages=list(caption_config.languages), artemis=artemis,
                          artemis_ratio=caption_config.artemis_ratio)
