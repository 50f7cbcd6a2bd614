"""Container names and ids: validation, random ids, and Docker-style random names."""

from __future__ import annotations

import random
import re
import secrets

from dockyard.errors import InvalidArgument

_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_ID = re.compile(r"^[0-9a-f]{64}$")
SHORT_ID_LENGTH = 12

# A compact subset of moby's pkg/namesgenerator lists.
ADJECTIVES: tuple[str, ...] = (
    "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful",
    "blissful", "bold", "boring", "brave", "busy", "charming", "clever", "compassionate",
    "competent", "confident", "cool", "cranky", "crazy", "dazzling", "determined", "distracted",
    "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic", "exciting",
    "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "funny", "gallant",
    "gifted", "goofy", "gracious", "happy", "hardcore", "heuristic", "hopeful", "hungry",
    "infallible", "inspiring", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid",
    "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice", "nifty",
    "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical",
    "priceless", "quirky", "quizzical", "relaxed", "reverent", "romantic", "serene", "sharp",
    "silly", "sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet", "tender",
    "thirsty", "trusting", "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful",
    "xenodochial", "youthful", "zealous", "zen",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bassi",
    "bell", "bhabha", "blackwell", "bohr", "booth", "borg", "bose", "brahmagupta", "brattain",
    "brown", "cannon", "carson", "cerf", "chandrasekhar", "chaum", "clarke", "curie", "darwin",
    "diffie", "dijkstra", "driscoll", "dubinsky", "easley", "einstein", "elion", "engelbart",
    "euclid", "euler", "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg",
    "goodall", "hamilton", "hawking", "heisenberg", "hertz", "hodgkin", "hopper", "hypatia",
    "jackson", "jang", "johnson", "kalam", "keller", "kepler", "knuth", "kowalevski", "lamarr",
    "lamport", "leakey", "lovelace", "lumiere", "mayer", "mccarthy", "mcclintock", "meitner",
    "mendel", "mirzakhani", "morse", "newton", "nobel", "noether", "pascal", "pasteur",
    "perlman", "pike", "poincare", "ramanujan", "ritchie", "rosalind", "sammet", "shannon",
    "shtern", "sinoussi", "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing",
    "varahamihira", "volhard", "wescoff", "wiles", "williams", "wilson", "wozniak", "wright",
    "yalow", "yonath",
)  # fmt: skip


def validate_name(name: str) -> str:
    """A `--name` value without Docker's optional leading `/`; illegal names raise."""
    if not _NAME.match(name):
        raise InvalidArgument(
            f'Invalid container name ("{name}"), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'
        )
    return name.removeprefix("/")


def new_id() -> str:
    """A fresh container id: 64 hex digits from the OS's CSPRNG."""
    return secrets.token_hex(32)


def is_full_id(text: str) -> bool:
    """Whether `text` is a full 64-hex-digit id."""
    return bool(_ID.match(text))


def short_id(container_id: str) -> str:
    """The 12-character form `ps` shows."""
    return container_id[:SHORT_ID_LENGTH]


def random_name(retry: int = 0, rng: random.Random | None = None) -> str:
    """`adjective_surname`, with a digit appended on retries after a clash (as Docker)."""
    pick = rng or random.SystemRandom()
    while True:
        name = f"{pick.choice(ADJECTIVES)}_{pick.choice(SURNAMES)}"
        if name != "boring_wozniak":  # Steve Wozniak is not boring (moby's namesgenerator)
            break
    return f"{name}{pick.randrange(10)}" if retry > 0 else name
