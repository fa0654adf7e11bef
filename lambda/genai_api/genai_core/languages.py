"""The language a caller asks an answer in: a BCP 47 language tag, or a language name from a closed list.

``language`` is the one caller value that reaches the system prompt, so it is held to what names a language and
nothing else: a tag that is well-formed per RFC 5646 (section 2.1, the ABNF: "en", "pt-BR", "zh-Hant-TW"), or one of
the names below (English names, endonyms and Portuguese names of common languages; case, accents and spacing are
ignored). Anything else is a 400. What reaches the prompt is a canonical form built from parts of fixed shape (the
primary language, script and region subtags, cased as RFC 5646 section 2.1.1 recommends) and, when the language is
in the list, its English name: "pt-br" and "Português do Brasil" both become "Brazilian Portuguese (pt-BR)".
Variant, extension and private-use subtags are accepted but not rendered: they are free-form alphanumerics that the
model needs no more than the caller's instructions need a way into the system prompt.

This is the one home of the list. The module is imported on the first request that names a language, not at the
function's init (``genai_core.prompts``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Tag -> (English name, other names a caller may use: the endonym, the Portuguese name). Tags in canonical case;
# names as usually written, each once (case and accents are folded when compared).
LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": ("English", "inglês"),
    "en-US": ("American English", "US English", "inglês americano"),
    "en-GB": ("British English", "UK English", "inglês britânico"),
    "pt": ("Portuguese", "português"),
    "pt-BR": ("Brazilian Portuguese", "português brasileiro", "português do Brasil", "Portuguese (Brazil)"),
    "pt-PT": ("European Portuguese", "português europeu", "português de Portugal", "Portuguese (Portugal)"),
    "es": ("Spanish", "español", "castellano", "espanhol"),
    "es-419": ("Latin American Spanish", "español latinoamericano", "espanhol latino-americano"),
    "es-ES": ("European Spanish", "español de España", "espanhol da Espanha"),
    "fr": ("French", "français", "francês"),
    "de": ("German", "Deutsch", "alemão"),
    "it": ("Italian", "italiano"),
    "nl": ("Dutch", "Nederlands", "holandês", "neerlandês"),
    "ca": ("Catalan", "català", "catalão"),
    "gl": ("Galician", "galego"),
    "eu": ("Basque", "euskara", "basco"),
    "ro": ("Romanian", "română", "romeno"),
    "pl": ("Polish", "polski", "polonês"),
    "cs": ("Czech", "čeština", "tcheco"),
    "hu": ("Hungarian", "magyar", "húngaro"),
    "el": ("Greek", "Ελληνικά", "grego"),
    "sv": ("Swedish", "svenska", "sueco"),
    "no": ("Norwegian", "norsk", "norueguês"),
    "da": ("Danish", "dansk", "dinamarquês"),
    "fi": ("Finnish", "suomi", "finlandês"),
    "ru": ("Russian", "русский", "russo"),
    "uk": ("Ukrainian", "українська", "ucraniano"),
    "tr": ("Turkish", "Türkçe", "turco"),
    "ar": ("Arabic", "العربية", "árabe"),
    "he": ("Hebrew", "עברית", "hebraico"),
    "fa": ("Persian", "فارسی", "persa", "Farsi"),
    "hi": ("Hindi", "हिन्दी"),
    "bn": ("Bengali", "বাংলা", "Bangla"),
    "ur": ("Urdu", "اردو"),
    "ta": ("Tamil", "தமிழ்"),
    "zh": ("Chinese", "中文", "chinês"),
    "zh-Hans": ("Simplified Chinese", "简体中文", "chinês simplificado"),
    "zh-Hant": ("Traditional Chinese", "繁體中文", "chinês tradicional"),
    "ja": ("Japanese", "日本語", "japonês"),
    "ko": ("Korean", "한국어", "coreano"),
    "id": ("Indonesian", "Bahasa Indonesia", "indonésio"),
    "ms": ("Malay", "Bahasa Melayu", "malaio"),
    "th": ("Thai", "ไทย", "tailandês"),
    "vi": ("Vietnamese", "Tiếng Việt", "vietnamita"),
    "fil": ("Filipino", "Wikang Filipino", "Tagalog"),
    "sw": ("Swahili", "Kiswahili", "suaíli"),
    "gn": ("Guarani", "avañe'ẽ"),
}

# RFC 5646, section 2.1 (case-insensitive). Grandfathered tags are listed in full; the rest is the langtag
# production, and a tag of private-use subtags only ("x-...") names no language and is refused.
_ALNUM = "[a-z0-9]"
_LANGTAG = re.compile(
    rf"""
    (?P<language>[a-z]{{2,3}}(?:-[a-z]{{3}}){{0,3}}|[a-z]{{4,8}})
    (?:-(?P<script>[a-z]{{4}}))?
    (?:-(?P<region>[a-z]{{2}}|[0-9]{{3}}))?
    (?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*
    (?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*
    (?:-x(?:-{_ALNUM}{{1,8}})+)?
    """,
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)
GRANDFATHERED = frozenset(
    (
        "en-GB-oed i-ami i-bnn i-default i-enochian i-hak i-klingon i-lux i-mingo i-navajo i-pwn i-tao i-tay i-tsu "
        "sgn-BE-FR sgn-BE-NL sgn-CH-DE art-lojban cel-gaulish no-bok no-nyn zh-guoyu zh-hakka zh-min zh-min-nan "
        "zh-xiang"
    ).split()
)
_GRANDFATHERED = {tag.lower(): tag for tag in GRANDFATHERED}
PROBLEM = (
    'language must be a BCP 47 language tag such as "en", "pt-BR" or "zh-Hant-TW", or a language name such as '
    '"English", "Português" or "Brazilian Portuguese".'
)


def fold(name: str) -> str:
    """A name as it is compared: accents removed, case folded, runs of spaces made one."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(plain.casefold().split())


_BY_NAME = {fold(name): tag for tag, names in LANGUAGES.items() for name in names}


@dataclass(frozen=True)
class Language:
    tag: str  # canonical: language-Script-REGION (the parts of fixed shape)
    name: str | None  # the English name, when the language is in the list

    def __str__(self) -> str:
        return f"{self.name} ({self.tag})" if self.name else self.tag


def _canonical(match: re.Match[str]) -> str:
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts)


def _named(tag: str) -> Language:
    """The tag with the English name of its longest listed prefix: zh-Hant-TW is Traditional Chinese."""
    prefix = tag
    while prefix:
        if prefix in LANGUAGES:
            return Language(tag, LANGUAGES[prefix][0])
        prefix = prefix.rpartition("-")[0]
    return Language(tag, None)


def parse(value: str) -> Language | None:
    """The language ``value`` names (a listed name or a well-formed tag), or None."""
    tag = _BY_NAME.get(fold(value))
    if tag is not None:
        return Language(tag, LANGUAGES[tag][0])
    if value.lower() in _GRANDFATHERED:
        return Language(_GRANDFATHERED[value.lower()], None)
    match = _LANGTAG.fullmatch(value)
    return _named(_canonical(match)) if match else None
