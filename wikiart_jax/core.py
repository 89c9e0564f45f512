"""The vocabulary every layer shares: task names, WikiArt's classes, file types, errors.

The bottom of the package: it imports nothing of ours, and everything else may
import it. A name defined here is defined nowhere else.
"""

# The single-label classification tasks (softmax heads over named classes), in the
# order every table and head lists them.
TASKS = ('style', 'artist', 'genre')

# Two tasks of other kinds, named here so every layer spells them alike:
# TAGS, what the picture depicts: multi-label (a sigmoid per tag of text/subjects.py),
# soft targets, each masked where unknown; PERIOD, when it was made: a softmax over
# 25-year bins, masked where the year is unknown (metrics/period.py).
TAGS = 'tags'
TAGS_MASK = 'tags_mask'  # beside TAGS in a batch: 1 where a tag's target is known
PERIOD = 'period'
# A training batch's caption target says how surely it words the style (data ->
# train -> the captioner's style-hedge token): -1 stated, -2 "probably", else the
# index of the runner-up style named beside the first.
STYLE_HEDGE = 'caption_style_hedge'
HEDGE_SURE, HEDGE_PROBABLE = -1, -2
# Beside TAGS in a training batch: the tags its caption target may name, where the
# target left some present tags out (`data.caption.tag_drop`); the captioner's tag
# tokens hold these instead of TAGS.
CAPTION_TAGS = 'caption_tags'
# Beside 'style' / 'artist' in a training batch: the class its caption target names,
# where the target names another than the label (`data.caption.style_swap` /
# `artist_swap`); the captioner's style / artist token holds this one.
CAPTION_STYLE, CAPTION_ARTIST = 'caption_style', 'caption_artist'
# The period bins: [1400, 1425), ..., [2000, 2025); a year outside falls in the nearest.
PERIOD_START, PERIOD_END, PERIOD_STEP = 1400, 2025, 25
NUM_PERIOD_BINS = (PERIOD_END - PERIOD_START) // PERIOD_STEP

# The 27 ArtGAN styles, in style_class.txt order (the index is the class id).
STYLES = (
    'Abstract_Expressionism', 'Action_painting', 'Analytical_Cubism',
    'Art_Nouveau', 'Baroque', 'Color_Field_Painting', 'Contemporary_Realism',
    'Cubism', 'Early_Renaissance', 'Expressionism', 'Fauvism',
    'High_Renaissance', 'Impressionism', 'Mannerism_Late_Renaissance',
    'Minimalism', 'Naive_Art_Primitivism', 'New_Realism',
    'Northern_Renaissance', 'Pointillism', 'Pop_Art', 'Post_Impressionism',
    'Realism', 'Rococo', 'Romanticism', 'Symbolism', 'Synthetic_Cubism',
    'Ukiyo_e',
)

# The 10 ArtGAN genres, in genre_class.txt order.
GENRES = (
    'abstract_painting', 'cityscape', 'genre_painting', 'illustration',
    'landscape', 'nude_painting', 'portrait', 'religious_painting',
    'sketch_and_study', 'still_life',
)

# The image folders do not all carry the class name: style_class.txt says
# `Art_Nouveau`, the folder (and every CSV path) says `Art_Nouveau_Modern`.
STYLE_FOLDER_ALIASES = {'Art_Nouveau_Modern': 'Art_Nouveau'}

# The languages of the descriptions.
LANGUAGES = ('en', 'fr')

# File names read as images (lower-case; compare with `name.lower().endswith`).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif', '.tif', '.tiff')


class ImageError(ValueError):
  """An image that cannot be decoded; the message names the file."""


class CheckpointError(ValueError):
  """A checkpoint that cannot be read or does not fit the model; names the culprit."""


class TrainingDivergedError(RuntimeError):
  """The loss became NaN or infinite; the last good checkpoint is kept."""


class LockedError(RuntimeError):
  """Another live process writes to this folder; the message names it."""
