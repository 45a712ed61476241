"""The /pqr command grammar: verbs and aliases, tokens, quotes, mentions, the `--` reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.grammar import CANONICAL_VERBS, VERBS, GrammarError, parse

SPANISH_ALIASES = {
    "ayuda": "help",
    "nueva": "new", "nuevo": "new", "radicar": "new",
    "listar": "list", "lista": "list",
    "ver": "show", "mostrar": "show",
    "asignar": "assign",
    "tomar": "take",
    "responder": "reply",
    "nota": "note",
    "estado": "status",
    "cerrar": "close",
    "reabrir": "reopen",
    "plazo": "due", "prorroga": "due", "prórroga": "due",
    "multa": "penalty", "penalidad": "penalty",
    "contrato": "contract",
    "estadisticas": "stats", "estadísticas": "stats",
    "causa": "cause",
}


# --- verbs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("verb", CANONICAL_VERBS)
def test_canonical_verbs(verb: str) -> None:
    assert parse(verb).verb == verb
    assert parse(f"/pqr {verb}").verb == verb
    assert parse(verb.upper()).verb == verb


@pytest.mark.parametrize(("alias", "verb"), sorted(SPANISH_ALIASES.items()))
def test_spanish_aliases(alias: str, verb: str) -> None:
    assert VERBS[alias] == verb
    assert parse(alias).verb == verb
    assert parse(f"/pqr {alias.upper()} x").verb == verb


@pytest.mark.parametrize(("text", "verb"), [
    ("PRÓRROGA PQR-1 mañana", "due"),
    ("Prorroga PQR-1 mañana", "due"),
    ("ESTADÍSTICAS", "stats"),
    ("Estadisticas", "stats"),
    ("estadÍsticas", "stats"),
    ("pro\u0301rroga", "due"),  # decomposed accent (NFD)
])
def test_verbs_are_case_and_accent_insensitive(text: str, verb: str) -> None:
    assert parse(text).verb == verb


def test_every_alias_maps_to_a_canonical_verb() -> None:
    assert set(VERBS.values()) == set(CANONICAL_VERBS)
    assert set(SPANISH_ALIASES) <= set(VERBS)


@pytest.mark.parametrize("text", ["/pqr list", "list", "  /PQR   Listar mine", "/Pqr\tlista", "\u00a0list"])
def test_with_or_without_prefix(text: str) -> None:
    assert parse(text).verb == "list"


def test_prefix_and_args() -> None:
    cmd = parse("  /PQR   Listar mine")
    assert cmd.verb == "list"
    assert cmd.args == ("mine",)
    assert cmd.reason is None
    assert cmd.raw == "  /PQR   Listar mine"


@pytest.mark.parametrize("text", ["", "   ", "/pqr", " /PQR  ", "\n"])
def test_empty_is_help(text: str) -> None:
    cmd = parse(text)
    assert (cmd.verb, cmd.args, cmd.reason, cmd.raw) == ("help", (), None, text)
    assert cmd.arg(0) is None
    assert cmd.rest(0) == ""


@pytest.mark.parametrize("text", ["-- solo razón", "/pqr -- x", '"" list'])
def test_no_verb_is_empty_error(text: str) -> None:
    with pytest.raises(GrammarError) as info:
        parse(text)
    assert info.value.code == "empty"


@pytest.mark.parametrize(("text", "word"), [
    ("foo", "foo"), ("/pqr borrar PQR-1", "borrar"), ("PQR-2026-000001", "PQR-2026-000001"), ("--x", "--x"),
])
def test_unknown_verb(text: str, word: str) -> None:
    with pytest.raises(GrammarError) as info:
        parse(text)
    assert info.value.code == "unknown_verb"
    assert info.value.detail == word


def test_prefix_is_not_a_verb_later() -> None:
    with pytest.raises(GrammarError) as info:
        parse("/pqr /pqr list")
    assert info.value.code == "unknown_verb"


# --- tokens, quotes ------------------------------------------------------------------------------

def test_args_kept_as_typed() -> None:
    cmd = parse("show pqr-2026-000001")
    assert cmd.args == ("pqr-2026-000001",)
    assert cmd.arg(0) == "pqr-2026-000001"
    assert cmd.arg(1) is None
    assert cmd.arg(-1) is None


@pytest.mark.parametrize(("text", "expected"), [
    ('reply R "hola mundo"', "hola mundo"),
    ("reply R 'hola mundo'", "hola mundo"),
    ("reply R “hola mundo”", "hola mundo"),
    ("reply R ‘hola mundo’", "hola mundo"),
    ("reply R «hola mundo»", "hola mundo"),
    ("reply R „hola mundo“", "hola mundo"),
    ("reply R ”hola mundo”", "hola mundo"),
])
def test_quotes_group_words(text: str, expected: str) -> None:
    cmd = parse(text)
    assert cmd.args == ("R", expected)
    assert cmd.rest(1) == expected


def test_quoted_groups_keep_inner_spacing_and_join_adjacent() -> None:
    assert parse('note R "a   b"').args == ("R", "a   b")
    assert parse('note R "a b""c d"').args == ("R", "a bc d")
    assert parse('note R "a b"c').args == ("R", "a bc")
    assert parse('note R ""').args == ("R", "")


def test_apostrophes_inside_words_are_literal() -> None:
    assert parse("note R it's O’Brien's").args == ("R", "it's", "O’Brien's")
    assert parse("note R 'it's done'").args == ("R", "it's done")
    assert parse('note R 5"').args == ("R", '5"')


@pytest.mark.parametrize("text", ['note R "abc', "note R 'abc def", "note R “abc", "note R «abc", 'reply "x'])
def test_unbalanced_quotes(text: str) -> None:
    with pytest.raises(GrammarError) as info:
        parse(text)
    assert info.value.code == "unbalanced_quotes"
    assert info.value.detail


def test_quoted_separator_is_an_arg() -> None:
    cmd = parse('note R "--" b')
    assert cmd.args == ("R", "--", "b")
    assert cmd.reason is None


# --- mentions --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "who"), [
    ("assign R <@U123>", "slack:U123"),
    ("assign R <@U123|juan>", "slack:U123"),
    ("assign R <@U123|juan pérez>", "slack:U123"),
    ("assign R <@W0ABC9>", "slack:W0ABC9"),
    ("assign R @U0STAFF", "slack:U0STAFF"),
    ("assign R slack:U1", "slack:U1"),
    ("assign R telegram:1001", "telegram:1001"),
    ("assign R email:a@b.co", "email:a@b.co"),
    ("assign R @juan", "@juan"),
    ("assign R @Uber", "@Uber"),
])
def test_mentions(text: str, who: str) -> None:
    cmd = parse(text)
    assert cmd.verb == "assign"
    assert cmd.args == ("R", who)


def test_quoted_mention_is_not_normalized() -> None:
    assert parse('note R "@U0STAFF"').args == ("R", "@U0STAFF")


def test_mentions_mid_text() -> None:
    cmd = parse("note R habla con <@U9|ana> y @U0BOSS hoy")
    assert cmd.args == ("R", "habla", "con", "slack:U9", "y", "slack:U0BOSS", "hoy")
    assert cmd.rest(1) == "habla con <@U9|ana> y @U0BOSS hoy"


# --- reason and rest() ------------------------------------------------------------------------------

def test_due_with_reason() -> None:
    cmd = parse("due PQR-2026-000001 el próximo viernes -- falta información")
    assert cmd.verb == "due"
    assert cmd.args == ("PQR-2026-000001", "el", "próximo", "viernes")
    assert cmd.reason == "falta información"
    assert cmd.rest(1) == "el próximo viernes"
    assert cmd.rest(0) == "PQR-2026-000001 el próximo viernes"
    assert cmd.rest(3) == "viernes"
    assert cmd.rest(4) == ""
    assert cmd.rest(99) == ""


def test_first_separator_splits_and_reason_is_free_text() -> None:
    cmd = parse("plazo R mañana --   falta  info -- del cliente 'x  ")
    assert cmd.args == ("R", "mañana")
    assert cmd.reason == "falta  info -- del cliente 'x"


def test_reason_quotes_removed_when_one_quoted_string() -> None:
    assert parse('due R mañana -- "falta información"').reason == "falta información"
    assert parse('due R mañana -- "a" b').reason == '"a" b'


def test_separator_without_reason() -> None:
    cmd = parse("due R mañana --")
    assert cmd.args == ("R", "mañana")
    assert cmd.reason == ""


def test_separator_must_stand_alone() -> None:
    cmd = parse("note R a--b --c")
    assert cmd.args == ("R", "a--b", "--c")
    assert cmd.reason is None


def test_rest_preserves_text_exactly() -> None:
    text = "reply PQR-2026-000001   Hola Juan,  su caso   está listo!  ¿Algo más? :) "
    cmd = parse(text)
    assert cmd.rest(1) == "Hola Juan,  su caso   está listo!  ¿Algo más? :)"


def test_rest_single_quoted_string_loses_quotes() -> None:
    cmd = parse('reply R   “Hola,  Juan: ya está.”  ')
    assert cmd.rest(1) == "Hola,  Juan: ya está."
    cmd = parse('reply R "Hola" y "chao"')
    assert cmd.rest(1) == '"Hola" y "chao"'


def test_rest_stops_at_separator() -> None:
    cmd = parse('close R "todo   resuelto" -- cliente conforme')
    assert cmd.rest(1) == "todo   resuelto"
    assert cmd.reason == "cliente conforme"


def test_raw_is_kept() -> None:
    text = " /pqr  ver   PQR-1 "
    assert parse(text).raw == text


# --- options (`cause RAD CAUSE --area AREA`) ------------------------------------------------------

@pytest.mark.parametrize(("text", "args", "value"), [
    ("cause PQR-1 facturacion", ("PQR-1", "facturacion"), None),
    ("causa PQR-1 entrega --area Logística", ("PQR-1", "entrega"), "Logística"),
    ("cause PQR-1 entrega --area Servicio  al cliente", ("PQR-1", "entrega"), "Servicio  al cliente"),
    ('cause PQR-1 entrega --area "Servicio al cliente"', ("PQR-1", "entrega"), "Servicio al cliente"),
    ('cause PQR-1 entrega --area="Servicio al cliente"', ("PQR-1", "entrega"), "Servicio al cliente"),
    ("cause PQR-1 entrega --area=Bodega", ("PQR-1", "entrega"), "Bodega"),
    ("cause PQR-1 entrega —área Bodega", ("PQR-1", "entrega"), "Bodega"),       # `--` turned into an em dash
    ("cause PQR-1 entrega --AREA Bodega -- un motivo", ("PQR-1", "entrega"), "Bodega"),
    ("cause PQR-1 entrega --area", ("PQR-1", "entrega"), ""),
    ("cause PQR-1 entrega --area=", ("PQR-1", "entrega"), ""),
    ("cause PQR-1 --area Bodega", ("PQR-1",), "Bodega"),
])
def test_a_trailing_option_is_split_off(text: str, args: tuple[str, ...], value: str | None) -> None:
    assert parse(text).option("area") == (args, value)


def test_a_quoted_option_or_another_name_is_an_argument() -> None:
    assert parse('cause PQR-1 x "--area" y').option("area") == (("PQR-1", "x", "--area", "y"), None)
    assert parse("cause PQR-1 x --areas y").option("area") == (("PQR-1", "x", "--areas", "y"), None)
    assert parse("cause PQR-1 x -- --area y").option("area") == (("PQR-1", "x"), None)   # in the reason


# --- property --------------------------------------------------------------------------------------

_alphabet = st.sampled_from(list("ab Uxz09@<>|-\"'“”‘’«»„ \t\n:/")) | st.characters()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_alphabet, max_size=40))
def test_parse_only_raises_grammar_error(text: str) -> None:
    try:
        cmd = parse(text)
    except GrammarError as exc:
        assert exc.code in {"empty", "unknown_verb", "unbalanced_quotes"}
        return
    assert cmd.verb in CANONICAL_VERBS
    assert cmd.raw == text
    for i in range(len(cmd.args) + 2):
        assert isinstance(cmd.rest(i), str)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VERBS)), st.text(alphabet=_alphabet, max_size=30))
def test_parse_with_verb_only_raises_grammar_error(verb: str, tail: str) -> None:
    try:
        cmd = parse(f"/pqr {verb} {tail}")
    except GrammarError as exc:
        assert exc.code == "unbalanced_quotes"
        return
    assert cmd.verb == VERBS[verb]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_alphabet, max_size=8) | st.sampled_from(["--area", "—área", "--area=", "="]),
                max_size=6))
def test_option_never_raises(words: list[str]) -> None:
    try:
        cmd = parse("cause " + " ".join(words))
    except GrammarError:
        return
    args, value = cmd.option("area")
    assert args == cmd.args[:len(args)]
    assert value is None or isinstance(value, str)
