"""Best-guess language of a visitor message: "en", "pl", "cs" or "ru".

Script and diacritics decide most messages; for Polish and Czech typed without
diacritics, and for Russian in Latin transliteration, common function words and
chat words decide. Anything without evidence is English, the widget's default.
"""

from __future__ import annotations

import re

from .normalize import fold_word

LANGUAGES = ("en", "pl", "cs", "ru")

_PL_CHARS = frozenset("ąęłńśźżćó")
_CS_CHARS = frozenset("ěřůťďňýáíéúčšž")
# Letters Czech and Polish share (ó, and č/š/ž/ý are Czech-only but frequent).
_CS_STRONG = frozenset("ěřůťď")
_PL_STRONG = frozenset("ąęłśźż")

_WORDS = {
    "en": """the an and is are was were you my me it this that to of in on for with
        have has does did not dont can cant could would should will your our we they
        what when where how why who which please thanks thank hi hello hey order
        just but so if or there here get got want need like from been am im its ive
        any some still yet back arrived sent ordered item size store shop""",
    "pl": """nie jest sa czy sie mam mi jak ale juz tak to ze dla przez moze bardzo
        jestem jestescie macie moge mozna kiedy gdzie dlaczego czemu ktory ktora
        dzien dobry dziekuje dzieki prosze pozdrawiam zamowienie zamowilam zamowilem
        paczka paczki sklep sklepu kurier wysylka dostawa jeszcze tylko wszystko
        chce chcialam chcialbym czesc hej bylo byloby byl byla bedzie beda tego tej
        ten ta te moja moje moj mojej jakie jaki jaka ile co po przy oraz albo lub
        teraz zwrot reklamacja przyszla przyszedl przyszlo doszla niestety w we z ze
        od bez pod nad juz jutro dzis dzisiaj wczoraj rano wieczorem tydzien tygodniu
        dni miesiac zl zlotych prosze pan pani panstwo wam was nas nam mnie mojego
        jego jej ich sie bylo bylam bylem zeby aby gdyby ktore takze tez troche nic
        dwa trzy cztery jeden jedna wszystkie ciagle zawsze nigdy pytanie dostawe
        dostawy przesylka przesylke potrzebuje dziala dzialaja jestem bede""",
    "cs": """je jsem jste jsou neni nejsem mate muzu mohu muzete ale uz jak kdy kde
        proc ktery ktera ktere dobry den dekuji dekuju diky prosim objednavka
        objednavku objednal objednala balik baliku zbozi obchod kuryr doprava jeste
        jen vsechno chci chtel chtela ahoj cau bylo by byl byla bude budou toho
        ten ta to moje muj moji jake jaky jaka kolik co po pri nebo ted vraceni
        reklamace prislo prisla prisel bohuzel taky tady tam neco nic vas vam v ve
        ke k s se si z za od bez pod nad zitra dnes dneska vcera rano vecer tyden
        tydnu dni mesic kc korun pane pani nas nam mne meho jeho jeji jejich aby
        abych kdyby ktere take trochu uplne vubec ma dva tri
        ctyri jeden jedna vsechny porad vzdy nikdy mam dotaz ohledne doruceni zasilka
        zasilku dobry dobre dekuju mate jsme budu nebudu chtel chci potrebuju
        potrebuji nefunguje funguje""",
    "ru": """ne eto u menya mne vy vas vam ya my on ona oni est net da kak kogda gde
        pochemu chto kto zdravstvuite zdravstvuite zdravstvuyte privet spasibo
        pozhaluista pozhaluysta poka mozhno hochu nado uzhe eshe esche ochen vse vsyo
        zakaz zakaza tovar dostavka posylka magazin kogda budet byl byla bylo
        seichas segodnya zavtra tolko tozhe ili esli moi moya moe etot eta eti etih
        nikogda bolshe pomogite rabotaet prishel prishla prishlo pogovorit
        pomoch mozhet mozhete nuzhno skazhite podskazhite horosho ploho tut tam vot""",
}
_WORD_SETS = {lang: frozenset(fold_word(w) for w in words.split()) for lang, words in _WORDS.items()}
# Character sequences typical of each Latin-script language once diacritics are gone.
_NGRAMS = {
    "pl": ("rz", "sz", "cz", "dz", "prz", "ow", "wy", "ie", "ą", "ę"),
    "cs": ("ou", "ej", "uj", "jsem", "jste", "ě", "ř", "ů", "ch"),
    "ru": ("zh", "sh", "kh", "shch", "iy", "yu", "ya", "vy"),
    "en": ("th", "wh", "ing", "ee", "oo", "ck"),
}
_TOKEN = re.compile(r"[^\W\d_]+")


def language_scores(text: str) -> dict[str, float]:
    """Evidence for each language; Cyrillic script settles Russian outright."""
    lower = text.lower()
    scores = dict.fromkeys(LANGUAGES, 0.0)
    cyr = sum(1 for ch in lower if "а" <= ch <= "я" or ch in "ёіїєґ")
    lat = sum(1 for ch in lower if "a" <= ch <= "z")
    if cyr and cyr >= lat:
        scores["ru"] = 10.0 + cyr
        return scores
    for ch in lower:
        if ch in _PL_CHARS:
            scores["pl"] += 3.0 if ch in _PL_STRONG else 1.5
        elif ch in _CS_CHARS:
            scores["cs"] += 3.0 if ch in _CS_STRONG else 1.5
    words = [fold_word(w) for w in _TOKEN.findall(lower)]
    for word in words:
        for lang, vocab in _WORD_SETS.items():
            if word in vocab:
                scores[lang] += 1.0
    joined = " ".join(words)
    for lang, grams in _NGRAMS.items():
        scores[lang] += 0.15 * sum(joined.count(g) for g in grams)
    return scores


def pick(scores: dict[str, float]) -> str:
    """The best-supported language, or "en" when nothing stands out."""
    best = max(LANGUAGES, key=lambda lang: scores[lang])
    return best if scores[best] > 0.5 else "en"


def detect_language(text: str) -> str:
    """Return the most likely of ``en``, ``pl``, ``cs``, ``ru`` ("en" when unsure)."""
    return pick(language_scores(text))
