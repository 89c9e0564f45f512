"""What a painting depicts: the content tags, bilingual, as data.

Each tag has an English noun phrase with its natural article ('the sea', 'a boat',
'flowers'), the French one ('la mer', 'un bateau', 'des fleurs') with the noun's
gender and number, so that sentences can agree and choose their own article
("une mer", "les fleurs", "l'église", "de la neige"), the words that name it in
English utterances (ArtEmis), and CLIP prompts in both languages. The key is
the tag's id: it never changes once a dataset stores it.

    SUBJECTS['boat'].fr -> 'un bateau'; french(SUBJECTS['church'], 'definite') -> "l'église"
"""

from __future__ import annotations

import dataclasses
import re

GROUPS = ('scene', 'figures', 'animals', 'objects', 'abstraction')
GENDERS = ('m', 'f')
NUMBERS = ('sg', 'pl')

# key | group | English, natural article | French, natural article | gender number of the
# French noun | English words and phrases that name it
_TABLE = """
sea | scene | the sea | la mer | f sg | sea, ocean, seascape, waves, seashore
sky_clouds | scene | a cloudy sky | un ciel nuageux | m sg | cloud, clouds, cloudy
river | scene | a river | une rivière | f sg | river, stream, creek
lake | scene | a lake | un lac | m sg | lake, pond
mountains | scene | mountains | des montagnes | f pl | mountain, mountains, peak, peaks
hills | scene | hills | des collines | f pl | hill, hills, hillside
forest | scene | a forest | une forêt | f sg | forest, woods, woodland
trees | scene | trees | des arbres | m pl | tree, trees
field | scene | a field | un champ | m sg | field, fields, meadow, wheat, farmland
garden | scene | a garden | un jardin | m sg | garden, gardens, park
street | scene | a street | une rue | f sg | street, streets, road, avenue, boulevard
village | scene | a village | un village | m sg | village, hamlet
city | scene | a city | une ville | f sg | city, town, cityscape
buildings | scene | buildings | des bâtiments | m pl | building, buildings, skyscraper
harbour | scene | a harbour | un port | m sg | harbor, harbour, port, dock
beach | scene | a beach | une plage | f sg | beach, shore, sand
interior | scene | an interior | un intérieur | m sg | room, interior, kitchen, bedroom
night | scene | night | la nuit | f sg | night, nighttime, nocturnal
snow | scene | snow | de la neige | f sg | snow, snowy, winter
sunset | scene | a sunset | un coucher de soleil | m sg | sunset, sunrise, dusk, dawn
storm | scene | a storm | une tempête | f sg | storm, stormy, tempest, lightning
sun | scene | the sun | le soleil | m sg | sun, sunlight, sunshine
moon | scene | the moon | la lune | f sg | moon, moonlight
ruins | scene | ruins | des ruines | f pl | ruin, ruins
battle | scene | a battle | une bataille | f sg | battle, war, fighting
figure | figures | a figure | un personnage | m sg | figure, figures, person, someone, somebody
woman | figures | a woman | une femme | f sg | woman, women, lady, ladies
man | figures | a man | un homme | m sg | man, men, gentleman
child | figures | a child | un enfant | m sg | child, children, kid, kids, boy, girl, baby
group_of_people | figures | a group of people | un groupe de personnages | m sg | people, crowd, group, family
nude | figures | a nude figure | un nu | m sg | nude, naked
face | figures | a face | un visage | m sg | face, faces
couple | figures | a couple | un couple | m sg | couple, lovers
soldiers | figures | soldiers | des soldats | m pl | soldier, soldiers, army, warrior, warriors
rider | figures | a rider | un cavalier | m sg | rider, horseman, riding
dancers | figures | dancers | des danseurs | m pl | dancer, dancers, dancing, ballet
angel | figures | an angel | un ange | m sg | angel, angels, cherub, cherubs
madonna_and_child | figures | the Madonna and Child | la Vierge à l'Enfant | f sg | madonna, virgin mary
crucifixion | figures | the Crucifixion | la Crucifixion | f sg | crucifixion, crucified
saint | figures | a saint | un saint | m sg | saint, saints, halo
christ | figures | Christ | le Christ | m sg | jesus, christ
horse | animals | a horse | un cheval | m sg | horse, horses, pony
dog | animals | a dog | un chien | m sg | dog, dogs, puppy
cat | animals | a cat | un chat | m sg | cat, cats, kitten
birds | animals | birds | des oiseaux | m pl | bird, birds
cattle | animals | cattle | du bétail | m sg | cow, cows, cattle, bull, ox, oxen
sheep | animals | sheep | des moutons | m pl | sheep, lamb, lambs, flock
fish | animals | fish | des poissons | m pl | fish, fishes
boat | objects | a boat | un bateau | m sg | boat, boats, ship, ships, sailboat, sail, sails
flowers | objects | flowers | des fleurs | f pl | flower, flowers, bouquet, roses, blossom, blossoms
fruit | objects | fruit | des fruits | m pl | fruit, fruits, apple, apples, lemon, lemons, grapes, pear, pears
vase | objects | a vase | un vase | m sg | vase, jug, pitcher
table | objects | a table | une table | f sg | table
bottle | objects | a bottle | une bouteille | f sg | bottle, bottles
book | objects | a book | un livre | m sg | book, books
musical_instrument | objects | a musical instrument | un instrument de musique | m sg | guitar, violin, piano, lute, mandolin, instrument
bridge | objects | a bridge | un pont | m sg | bridge, bridges
church | objects | a church | une église | f sg | church, cathedral, chapel
house | objects | a house | une maison | f sg | house, houses, cottage, hut
castle | objects | a castle | un château | m sg | castle, palace, fortress
window | objects | a window | une fenêtre | f sg | window, windows
chair | objects | a chair | une chaise | f sg | chair, armchair, sofa
mirror | objects | a mirror | un miroir | m sg | mirror
hat | objects | a hat | un chapeau | m sg | hat, hats, bonnet
dress | objects | a dress | une robe | f sg | dress, gown
skull | objects | a skull | un crâne | m sg | skull
cart | objects | a cart | une charrette | f sg | cart, carriage, wagon
windmill | objects | a windmill | un moulin | m sg | windmill, mill
candle | objects | a candle | une bougie | f sg | candle, candles, candlelight
cross | objects | a cross | une croix | f sg | cross
geometric_shapes | abstraction | geometric shapes | des formes géométriques | f pl | geometric, shapes, squares, circles, triangles, rectangles
lines | abstraction | lines | des lignes | f pl | line, lines, stripes
colour_fields | abstraction | colour fields | des champs colorés | m pl | color field, colour field, color fields, colour fields, color blocks, blocks of color
drips | abstraction | drips | des coulures | f pl | drip, drips, dripping, splatter, splatters, splashes
dots | abstraction | dots | des points | m pl | dot, dots, dotted
curves | abstraction | curves | des courbes | f pl | curve, curves, curvy, swirl, swirls
letters | abstraction | letters | des lettres | f pl | letter, letters, writing, text
"""

# French words starting with a mute h elide the article ("l'homme").
_MUTE_H = ('homme', 'herbe', 'hiver', 'horizon', 'hôtel')
_VOWELS = 'aeiouyàâäéèêëîïôöùûüœæ'
_ARTICLES = ('a ', 'an ', 'the ')

_FR_ARTICLES = ('un ', 'une ', 'des ', 'le ', 'la ', 'les ', "l'", 'du ', 'de la ', "de l'")
# CLIP prompt templates: '{}' takes the phrase with its natural article.
PROMPTS = {
    'en': ('a painting of {}', 'an artwork depicting {}', 'a picture showing {}'),
    'fr': ('un tableau représentant {}', 'une œuvre d\'art montrant {}',
           'une peinture qui représente {}'),
}
# What a tag is scored against: a painting in general (the "absent" side of each tag).
NEUTRAL_PROMPTS = {
    'en': ('a painting', 'an artwork', 'a picture'),
    'fr': ('un tableau', 'une œuvre d\'art', 'une peinture'),
}


@dataclasses.dataclass(frozen=True)
class Subject:
  """One content tag.

  Attributes:
    key: the tag's id ('boat').
    group: one of GROUPS.
    en: the English noun phrase with its natural article ('a boat', 'the sea', 'flowers').
    fr: the French one ('un bateau', 'la mer', 'des fleurs', 'de la neige').
    gender: 'm' or 'f', of the French noun.
    number: 'sg' or 'pl', of the French noun.
    words: lower-case English words or phrases that name it (ArtEmis).
  """
  key: str
  group: str
  en: str
  fr: str
  gender: str
  number: str
  words: tuple[str, ...]

  @property
  def en_bare(self) -> str:
    """The English phrase without its article: 'boat', 'sea', 'flowers'."""
    for article in _ARTICLES:
      if self.en.startswith(article):
        return self.en[len(article):]
    return self.en

  @property
  def fr_noun(self) -> str:
    """The French noun without its article: 'bateau', 'mer', 'fleurs'."""
    for article in sorted(_FR_ARTICLES, key=len, reverse=True):
      if self.fr.startswith(article):
        return self.fr[len(article):]
    return self.fr


def _parse(table: str) -> dict[str, Subject]:
  out = {}
  for line in table.strip().splitlines():
    key, group, en, fr, gender_number, words = (f.strip() for f in line.split('|'))
    gender, number = gender_number.split()
    if key in out:
      raise ValueError(f'subject {key!r} is listed twice')
    if group not in GROUPS or gender not in GENDERS or number not in NUMBERS:
      raise ValueError(f'subject {key!r}: bad group, gender or number in {line!r}')
    out[key] = Subject(key, group, en, fr, gender, number,
                       tuple(w.strip().lower() for w in words.split(',')))
  return out


SUBJECTS: dict[str, Subject] = _parse(_TABLE)
# The tag order of every head, record and table (the index is the tag's id in arrays).
TAG_KEYS: tuple[str, ...] = tuple(SUBJECTS)


def _elides(word: str) -> bool:
  low = word.lower()
  return low[:1] in _VOWELS or low.startswith(_MUTE_H)


def french(subject: Subject, article: str = 'indefinite') -> str:
  """The French noun with an agreeing article.

  Args:
    subject: a Subject.
    article: 'indefinite' (un bateau, une mer, des fleurs), 'definite' (le bateau,
      la mer, l'église, les fleurs), 'partitive' (du bétail, de la neige, des
      fleurs) or 'none'.
  """
  noun = subject.fr_noun
  if article == 'none':
    return noun
  plural = subject.number == 'pl'
  if article == 'indefinite':
    return f"{'des' if plural else ('une' if subject.gender == 'f' else 'un')} {noun}"
  if article == 'definite':
    if plural:
      return f'les {noun}'
    return f"l'{noun}" if _elides(noun) else f"{'la' if subject.gender == 'f' else 'le'} {noun}"
  if article == 'partitive':
    if plural:
      return f'des {noun}'
    if _elides(noun):
      return f"de l'{noun}"
    return f"{'de la' if subject.gender == 'f' else 'du'} {noun}"
  raise ValueError(f"article must be 'indefinite', 'definite', 'partitive' or 'none', "
                   f'got {article!r}')


def clip_prompts(subject: Subject, lang: str = 'both') -> tuple[str, ...]:
  """The CLIP prompts of a tag in 'en', 'fr' or 'both' (English first)."""
  if lang not in ('en', 'fr', 'both'):
    raise ValueError(f"lang must be 'en', 'fr' or 'both', got {lang!r}")
  out = []
  if lang in ('en', 'both'):
    out += [p.format(subject.en) for p in PROMPTS['en']]
  if lang in ('fr', 'both'):
    out += [p.format(subject.fr) for p in PROMPTS['fr']]
  return tuple(out)


def neutral_prompts(lang: str = 'both') -> tuple[str, ...]:
  """The prompts of 'a painting' that every tag is contrasted with."""
  if lang not in ('en', 'fr', 'both'):
    raise ValueError(f"lang must be 'en', 'fr' or 'both', got {lang!r}")
  return tuple(p for l in ('en', 'fr') if lang in (l, 'both') for p in NEUTRAL_PROMPTS[l])


_WORD = re.compile(r"[a-z]+")


def _phrase_index(subjects: dict[str, Subject]) -> dict[str, list[tuple[tuple[str, ...], str]]]:
  """First word -> [(words of a phrase, tag key)], longest phrases first."""
  index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
  for s in subjects.values():
    for phrase in s.words:
      words = tuple(phrase.split())
      index.setdefault(words[0], []).append((words, s.key))
  for entries in index.values():
    entries.sort(key=lambda e: -len(e[0]))
  return index


_INDEX = _phrase_index(SUBJECTS)


def mentioned(text: str, subjects: dict[str, Subject] | None = None) -> set[str]:
  """Keys of the tags whose words occur in an English text (whole words, any case).

  Phrases of several words are matched first and use up their words, so 'a colour
  field' names colour_fields and not field.
  """
  index = _INDEX if subjects is None else _phrase_index(subjects)
  tokens = _WORD.findall(text.lower())
  used = [False] * len(tokens)
  found = set()
  for several in (True, False):  # phrases of several words, then single words
    for i, token in enumerate(tokens):
      for words, key in index.get(token, ()):
        n = len(words)
        if (n > 1) == several and tuple(tokens[i:i + n]) == words and not any(used[i:i + n]):
          found.add(key)
          used[i:i + n] = [True] * n if several else used[i:i + n]
          break
  return found
