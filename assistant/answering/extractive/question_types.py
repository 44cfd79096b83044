"""What kind of phrase a question asks for, and whether a sentence holds one where it counts.

`question_type` sorts a question into 'number', 'money', 'time', 'place', 'person' or None. `has_type` says
whether a sentence holds such a phrase at all (a ranking feature). The answerability checks are stricter:
- `count_bound`: the number must sit next to the thing the question counts. "How many militants were killed?" is
  not answered by "around 30 indirect fire attacks": the sentence has a number, but it counts attacks. The
  counted thing is the words after "how many" / "how much"; a number binds to it when one of them follows within
  a few words ("30 militants", "30 suspected militants").
- `role_bound`: "Who is the spokesperson?" needs a name next to "spokesperson", not "a spokesperson said".
- `lacks_date`, `lacks_money`: a date or an amount of money asked for, and none in the text.
"""

from __future__ import annotations

import re

from assistant.text.terms import terms, words

_MEASURE = (r"^\s*what\s+(?:is|was|are|were)\s+the\s+(?:population|number|size|area|length|height|width|depth|"
            r"weight|age|capacity|speed|distance|percentage|rate|share|total)\s+of\b")
_TIME_Q = re.compile(r"^(when\b)|\b(what|which|in what|in which)\s+(year|years|decade|century|centuries|date|month|"
                     r"day|era|period|season|time)\b|\bhow long ago\b|\bsince when\b", re.IGNORECASE)
_NUMBER_Q = re.compile(r"\bhow (many|much|old|long|far|large|big|tall|high|often|fast|heavy|deep|wide)\b|"
                       r"\bwhat (percentage|percent|proportion|fraction|number|amount|share|size|age|rate)\b|"
                       + _MEASURE, re.IGNORECASE)
_MONEY_Q = re.compile(r"\bhow much\b.*\b(cost|costs|pay|paid|spend|spent|price|worth|budget|fund|funds|funding|"
                      r"charge|charged|earn|earned|raise|raised|money|sell|sold|buy|bought|owe|owed|fine|fined)\b|"
                      r"\bwhat (?:was|is|were|are)? ?(?:the )?(cost|price|budget|fee|fine|salary|revenue)\b",
                      re.IGNORECASE)
_PERSON_Q = re.compile(r"^(who|whom|whose)\b|\b(who|whom|whose)\b", re.IGNORECASE)
_PLACE_Q = re.compile(r"^where\b|\b(in|from|to) where\b|\bwhere\b|\bwhat (country|city|state|town|region|province|"
                      r"continent|place|county|nation)\b|\bwhich (country|city|state|town|region|province|"
                      r"continent|place|county|nation)\b", re.IGNORECASE)
_TIME_A = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b\d{1,2}(st|nd|rd|th)\b|\b(january|february|march|april|may|"
                     r"june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|"
                     r"oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
                     r"tomorrow|tonight|spring|summer|autumn|winter|century|centuries|decade|decades|ago|bc|bce|ad|"
                     r"ce|era|dynasty|weekend|week|month|year|years)\b", re.IGNORECASE)
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|"
                 r"forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|"
                 r"billion|billions|trillion|dozen|dozens|half|quarter|third|double|twice|several|percent")
_NUMBER_A = re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.IGNORECASE)
_QUANTITY = re.compile(rf"\d|\b(?!one\b)({_NUMBER_WORDS})\b", re.IGNORECASE)  # "one of their outposts" is no amount
_NUMBER_WORD = re.compile(rf"\d[\d,.]*%?|{_NUMBER_WORDS}|no|none|zero|all|every|many|few", re.IGNORECASE)
_MONEY_A = re.compile(r"[$€£¥]|\b(dollars?|euros?|pounds?|yen|yuan|francs?|usd|cents?|rupees?|livres?|marks)\b",
                      re.IGNORECASE)
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’\-]*")
_ASKED_COUNT = re.compile(r"\bhow (?:many|much)\s+((?:[\w'’\-]+\s*){1,3})", re.IGNORECASE)
_ASKED_ROLE = re.compile(r"^\s*(?:who|whom)\s+(?:is|was|are|were)\s+(?:the\s+|an?\s+)?([\w'’\-]+)|"
                         r"\bname of (?:the\s+|an?\s+)?([\w'’\-]+)", re.IGNORECASE)
_NAME = re.compile(r"[A-Z][\w'’\-]*")
# "how much has the administration approved?": a verb or a pronoun after "how many/much" names no counted thing
_NOT_A_THING = {"has", "have", "had", "did", "does", "do", "is", "was", "are", "were", "will", "would", "can",
                "could", "should", "might", "may", "it", "they", "he", "she", "we", "you", "i", "there"}
_DATE_Q = re.compile(r"^\s*(?:when\b|(?:on|in|by|since|until)?\s*(?:what|which)\s+(?:year|date|day|month|decade|century)\b)",
                     re.IGNORECASE)
_DATE_A = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b\d{1,2}(st|nd|rd|th)\b|\b(january|february|march|april|may|june|"
                     r"july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|"
                     r"dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|tomorrow|tonight|"
                     r"spring|summer|autumn|winter|century|centuries|decade|decades|ago|bc|bce|noon|midnight|morning|"
                     r"evening|night)\b"
                     r"|\b\d{1,2}(?:\s*o['’]clock|:\d{2}\b|\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w))"  # times of day answer "when" too
                     r"|\bweek\s+\d{1,2}\b", re.IGNORECASE)
# "When will the rocket launch?" "Later this month", "in a few weeks": what is still to come is dated relative to now.
# Only for such questions: in a news corpus "this week" is everywhere, and it does not say when a past event was.
_UPCOMING_Q = re.compile(r"^\s*when\s+(?:will|is|are|does|do|would|could|can|should)\b|^\s*when['’]s\b", re.IGNORECASE)
_RELATIVE_DATE = re.compile(r"\b(?:this|next|coming)\s+(?:week|weekend|month|year|season|spring|summer|fall|autumn|"
                            r"winter)\b|\bin\s+(?:a|an|a\s+few|a\s+couple\s+of|several|\d+|two|three|four|five|six|"
                            r"ten)\s+(?:days?|weeks?|months?|years?)\b|\bsoon\b", re.IGNORECASE)
BIND_WINDOW = 4  # words after a number in which the counted thing must appear; words around a role for a name


def question_type(question: str) -> str | None:
    """'money', 'number', 'time', 'place', 'person' or None: what kind of phrase the answer is."""
    if _MONEY_Q.search(question):
        return "money"
    if _NUMBER_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _PLACE_Q.search(question):
        return "place"
    if _PERSON_Q.search(question):
        return "person"
    return None


def has_type(sentence: str, kind: str | None, question_words: set[str]) -> bool:
    """Does the sentence hold a phrase of the asked kind anywhere?"""
    if kind == "time":
        return bool(_TIME_A.search(sentence))
    if kind in ("number", "money"):
        return bool((_MONEY_A if kind == "money" else _NUMBER_A).search(sentence))
    if kind in ("person", "place"):  # a capitalised word the question does not already name
        return any(m.group(0).lower().replace("’", "'") not in question_words for m in _CAPITAL.finditer(sentence))
    return False


def _asked_words(question: str) -> list[str]:
    """The counted thing: the (at most two) content words right after "how many" / "how much", as written,
    lower-cased; [] when there is none."""
    match = _ASKED_COUNT.search(question)
    if not match or match.group(1).split()[0].lower() in _NOT_A_THING:
        return []
    return [w.lower() for w in re.findall(r"[\w'’\-]+", match.group(1)) if terms(w)][:2]


def _tokens(sentence: str) -> tuple[list[str], list[str]]:
    raw = re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*", sentence)
    return raw, [next(iter(terms(w)), "") for w in raw]


def count_bound(question: str, sentence: str) -> bool | None:
    """For "how many X" / "how much X": does a number in the sentence count X (X within BIND_WINDOW words after
    it)? None when the question asks for no count of a named thing."""
    asked = _asked_words(question) if question_type(question) == "number" else []
    if not asked:
        return None
    thing = {t for w in asked for t in terms(w)}
    raw, stems = _tokens(sentence)

    def counts_it(i: int) -> bool:  # "420 fires" counts wildfires: a compound's head word is the thing too
        after = raw[i + 1:i + 1 + BIND_WINDOW]
        return bool(thing & set(stems[i + 1:i + 1 + BIND_WINDOW])) or any(
            len(w) >= 4 and len(a) > len(w) and a.endswith(w.lower()) and a[-len(w) - 1].isalpha()
            for a in asked for w in after)  # not "non-Muslims": a prefix after a hyphen can turn the meaning

    return any(_NUMBER_WORD.fullmatch(w) and counts_it(i) for i, w in enumerate(raw))


def role_bound(question: str, sentence: str) -> bool | None:
    """For "who is the X" / "the name of the X": is a name (a capitalised word the question does not contain)
    within BIND_WINDOW words of X in the sentence? None when the question asks for no role."""
    role = _ASKED_ROLE.search(question)
    if not role:
        return None
    role_terms = set(terms(role.group(1) or role.group(2)))
    asked = set(words(question))
    raw, stems = _tokens(sentence)
    names = [i for i, w in enumerate(raw) if i > 0 and _NAME.fullmatch(w) and w.lower().replace("’", "'") not in asked]
    return any(role_terms & set(stems[max(0, i - BIND_WINDOW):i + BIND_WINDOW + 1]) for i in names)


def lacks_date(question: str, text: str) -> bool:
    """A "when" / "what year" / "on what date" question and a text with no date in it (a year, a month or day
    name, an ordinal day, a century, "ago"; for what is still to come, "next week" too): "today's strikes" does not
    say when something began."""
    if not _DATE_Q.match(question) or _DATE_A.search(text):
        return False
    return not (_UPCOMING_Q.match(question) and _RELATIVE_DATE.search(text))


def lacks_money(question: str, text: str) -> bool:
    """A question about a cost or an amount paid, and a text with no currency in it."""
    return question_type(question) == "money" and not _MONEY_A.search(text)


CHECK_KIND = {"count": "number", "money": "money", "date": "time"}  # the phrase each check looks for


def span_passes(checks: list[str], span: str) -> bool:
    """Does the reader's span itself hold what each failed check looks for ("48,000" for a count of guests the
    text calls visitors)? A span that does not ("sister" for "how many leeks") cannot lift a check."""
    return all(has_type(span, CHECK_KIND[check], set()) for check in checks)


def failed_checks(question: str, best: str, window: str) -> list[str]:
    """The answer-type checks the text fails, of those that are necessary for any answer: a count ("how many X",
    "what is the population of Y") needs a number counting X in the best sentence (or, with no counted thing
    named, a number in the window), an amount of money a currency, a date a date. A question of another kind
    fails none."""
    failed = []
    if question_type(question) == "number":
        bound = count_bound(question, best)
        if bound is False or (bound is None and not _QUANTITY.search(window)):
            failed.append("count")
    if lacks_money(question, window):
        failed.append("money")
    if lacks_date(question, window):
        failed.append("date")
    return failed
