"""The words of the descriptions: style adjectives and movement names, genre nouns,
and the small grammar (articles, French "de" and "à") that joins them.

English and French tables are keyed by ArtGAN class names. French genre nouns
carry their indefinite article, which gives their gender ("une nature morte").
Styles that have no natural adjective are named through their movement instead
("An abstract composition in the Action Painting style", "Première Renaissance,
œuvre de Fra Angelico", "de la haute Renaissance"), never as a fake adjective
("Style première Renaissance", "An Action Painting abstract painting").
"""

NBSP = '\u00a0'  # French puts a non-breaking space inside « » and before ':'

# English style adjectives, as in "an Impressionist landscape".
STYLE_EN = {
    'Abstract_Expressionism': 'Abstract Expressionist',
    'Action_painting': 'Action Painting',
    'Analytical_Cubism': 'Analytical Cubist',
    'Art_Nouveau': 'Art Nouveau',
    'Baroque': 'Baroque',
    'Color_Field_Painting': 'Color Field',
    'Contemporary_Realism': 'Contemporary Realist',
    'Cubism': 'Cubist',
    'Early_Renaissance': 'Early Renaissance',
    'Expressionism': 'Expressionist',
    'Fauvism': 'Fauvist',
    'High_Renaissance': 'High Renaissance',
    'Impressionism': 'Impressionist',
    'Mannerism_Late_Renaissance': 'Mannerist',
    'Minimalism': 'Minimalist',
    'Naive_Art_Primitivism': 'Naive Art',
    'New_Realism': 'New Realist',
    'Northern_Renaissance': 'Northern Renaissance',
    'Pointillism': 'Pointillist',
    'Pop_Art': 'Pop Art',
    'Post_Impressionism': 'Post-Impressionist',
    'Realism': 'Realist',
    'Rococo': 'Rococo',
    'Romanticism': 'Romantic',
    'Symbolism': 'Symbolist',
    'Synthetic_Cubism': 'Synthetic Cubist',
    'Ukiyo_e': 'Ukiyo-e',
}

# Styles whose English name does not stand before a noun ("an Action Painting
# work"): they are written "in the Action Painting style".
STYLE_EN_NOT_ADJECTIVE = frozenset({'Action_painting'})

# English movement names, as in "between Impressionism and Post-Impressionism".
STYLE_EN_NOUN = {
    'Abstract_Expressionism': 'Abstract Expressionism',
    'Action_painting': 'Action Painting',
    'Analytical_Cubism': 'Analytical Cubism',
    'Art_Nouveau': 'Art Nouveau',
    'Baroque': 'the Baroque',
    'Color_Field_Painting': 'Color Field painting',
    'Contemporary_Realism': 'Contemporary Realism',
    'Cubism': 'Cubism',
    'Early_Renaissance': 'the Early Renaissance',
    'Expressionism': 'Expressionism',
    'Fauvism': 'Fauvism',
    'High_Renaissance': 'the High Renaissance',
    'Impressionism': 'Impressionism',
    'Mannerism_Late_Renaissance': 'Mannerism',
    'Minimalism': 'Minimalism',
    'Naive_Art_Primitivism': 'Naive Art',
    'New_Realism': 'New Realism',
    'Northern_Renaissance': 'the Northern Renaissance',
    'Pointillism': 'Pointillism',
    'Pop_Art': 'Pop Art',
    'Post_Impressionism': 'Post-Impressionism',
    'Realism': 'Realism',
    'Rococo': 'the Rococo',
    'Romanticism': 'Romanticism',
    'Symbolism': 'Symbolism',
    'Synthetic_Cubism': 'Synthetic Cubism',
    'Ukiyo_e': 'Ukiyo-e',
}

# French style adjectives (masculine, agreeing with "style": "Style impressionniste",
# "de style Art nouveau"), for the styles that have one.
STYLE_FR = {
    'Abstract_Expressionism': 'expressionniste abstrait',
    'Analytical_Cubism': 'cubiste analytique',
    'Art_Nouveau': 'Art nouveau',
    'Baroque': 'baroque',
    'Contemporary_Realism': 'réaliste contemporain',
    'Cubism': 'cubiste',
    'Expressionism': 'expressionniste',
    'Fauvism': 'fauve',
    'Impressionism': 'impressionniste',
    'Mannerism_Late_Renaissance': 'maniériste',
    'Minimalism': 'minimaliste',
    'Naive_Art_Primitivism': 'naïf',
    'New_Realism': 'nouveau réaliste',
    'Pointillism': 'pointilliste',
    'Pop_Art': 'pop art',
    'Post_Impressionism': 'postimpressionniste',
    'Realism': 'réaliste',
    'Rococo': 'rococo',
    'Romanticism': 'romantique',
    'Symbolism': 'symboliste',
    'Synthetic_Cubism': 'cubiste synthétique',
    'Ukiyo_e': 'ukiyo-e',
}

# French movement names with their definite article ("l'art naïf"). The styles
# missing from STYLE_FR are named by these alone ("Première Renaissance, œuvre de ...").
STYLE_FR_NOUN = {
    'Abstract_Expressionism': "l'expressionnisme abstrait",
    'Action_painting': "l'action painting",
    'Analytical_Cubism': 'le cubisme analytique',
    'Art_Nouveau': "l'Art nouveau",
    'Baroque': 'le baroque',
    'Color_Field_Painting': 'la peinture Color Field',
    'Contemporary_Realism': 'le réalisme contemporain',
    'Cubism': 'le cubisme',
    'Early_Renaissance': 'la première Renaissance',
    'Expressionism': "l'expressionnisme",
    'Fauvism': 'le fauvisme',
    'High_Renaissance': 'la haute Renaissance',
    'Impressionism': "l'impressionnisme",
    'Mannerism_Late_Renaissance': 'le maniérisme',
    'Minimalism': 'le minimalisme',
    'Naive_Art_Primitivism': "l'art naïf",
    'New_Realism': 'le nouveau réalisme',
    'Northern_Renaissance': 'la Renaissance nordique',
    'Pointillism': 'le pointillisme',
    'Pop_Art': 'le pop art',
    'Post_Impressionism': 'le postimpressionnisme',
    'Realism': 'le réalisme',
    'Rococo': 'le rococo',
    'Romanticism': 'le romantisme',
    'Symbolism': 'le symbolisme',
    'Synthetic_Cubism': 'le cubisme synthétique',
    'Ukiyo_e': "l'ukiyo-e",
}

# English genre nouns, without article.
GENRE_EN = {
    'abstract_painting': 'abstract composition',
    'cityscape': 'cityscape',
    'genre_painting': 'genre scene',
    'illustration': 'illustration',
    'landscape': 'landscape',
    'nude_painting': 'nude',
    'portrait': 'portrait',
    'religious_painting': 'religious painting',
    'sketch_and_study': 'sketch',
    'still_life': 'still life',
}

# French genre nouns with their indefinite article (the gender is in the article).
GENRE_FR = {
    'abstract_painting': 'une composition abstraite',
    'cityscape': 'une vue urbaine',
    'genre_painting': 'une scène de genre',
    'illustration': 'une illustration',
    'landscape': 'un paysage',
    'nude_painting': 'un nu',
    'portrait': 'un portrait',
    'religious_painting': 'une peinture religieuse',
    'sketch_and_study': 'une esquisse',
    'still_life': 'une nature morte',
}

# What a picture of each genre shows, after "représentant" (a portrait, a sketch or
# an abstract composition is what the work is, not what it shows: not listed).
GENRE_FR_SUBJECT = {
    'cityscape': 'une vue urbaine',
    'genre_painting': 'une scène de genre',
    'landscape': 'un paysage',
    'nude_painting': 'un nu',
    'religious_painting': 'une scène religieuse',
    'still_life': 'une nature morte',
}

_VOWELS = frozenset('aeiouyàâäéèêëîïôöùûüœæ')
# Given names whose h is mute, so French elides before them ("d'Henri Matisse").
_MUTE_H = ('henri', 'honoré', 'hector', 'hubert', 'hugues', 'hippolyte', 'horace',
           'hélène', 'hortense', 'hokusai')


def indefinite_article(word: str) -> str:
  """The English indefinite article for `word`, by its first letter."""
  if not word:  # '' is "in" every string: it read 'an'
    raise ValueError('an indefinite article needs a word')
  return 'an' if word[0].lower() in 'aeiou' else 'a'


def _elides(word: str) -> bool:
  low = word.lower()
  if low[:1] == 'y':  # "d'Yves" but "de Yayoi": y before a vowel is a consonant
    return low[1:2] not in _VOWELS
  return low[:1] in _VOWELS or low.startswith(_MUTE_H)


def french_de(name: str) -> str:
  """French "de" + a name or noun phrase: "d'Albrecht Dürer", "de Yayoi Kusama",
  "du Titien" (de + le), "des frères Le Nain" (de + les), "de la première Renaissance"."""
  if name.startswith('le '):
    return 'du ' + name[3:]
  if name.startswith('les '):
    return 'des ' + name[4:]
  return f"d'{name}" if _elides(name) and not name.startswith("l'") else f'de {name}'


def french_a(name: str) -> str:
  """French "à" + a name: "à Claude Monet", "au Titien" (à + le), "aux frères Le Nain"."""
  if name.startswith('le '):
    return 'au ' + name[3:]
  if name.startswith('les '):
    return 'aux ' + name[4:]
  return f'à {name}'


def feminine(noun_phrase: str) -> bool:
  """Whether a French noun phrase with its indefinite article is feminine."""
  return noun_phrase.startswith('une ')


def demonstrative(noun_phrase: str) -> str:
  """'un paysage' -> 'ce paysage', 'une esquisse' -> 'cette esquisse', 'un nu' -> 'ce nu'."""
  article, noun = noun_phrase.split(' ', 1)
  if article == 'une':
    return 'cette ' + noun
  return ('cet ' if _elides(noun) else 'ce ') + noun
