"""Impairment models and their SPEC grammar: parsing, round trips, and bad input named precisely."""

import dataclasses

import pytest

from simkit.errors import ConfigError
from simkit.impair import (
    Corrupt,
    Delay,
    Drop,
    Duplicate,
    GilbertElliott,
    Impairer,
    Malform,
    Reorder,
    Truncate,
    parse_spec,
    parse_specs,
)


@pytest.mark.parametrize("text,model", [
    ("drop:p=0.01", Drop(0.01)),
    ("gilbert:p=0.01,r=0.3,h=0.5,k=1", GilbertElliott(0.01, 0.3, 0.5, 1.0)),
    ("gilbert:p=0.01,r=0.3", GilbertElliott(0.01, 0.3, h=0.0, k=1.0)),
    ("dup:p=0.001", Duplicate(0.001)),
    ("dup:p=1%", Duplicate(0.01)),
    ("reorder:p=0.01,gap=3", Reorder(0.01, 3)),
    ("reorder:p=0.01", Reorder(0.01, 1)),
    ("corrupt:p=0.001", Corrupt(0.001, "frame")),
    ("corrupt:p=0.001,layer=UDP", Corrupt(0.001, "udp")),
    ("truncate:p=0.001", Truncate(0.001)),
    ("truncate:p=0.001,len=40", Truncate(0.001, 40)),
    ("delay:mean=20us,jitter=5us", Delay(20_000, 5_000)),
    (" DELAY : mean = 1.5ms ", Delay("1.5ms")),
    ("malform:kind=ip_options,p=0.05", Malform(0.05, ("ip_options",))),
    ("malform:kind=runt+ip_options,p=0.05", Malform(0.05, ("ip_options", "runt"))),
    ("malform:p=0.05", Malform(0.05, "any")),
    ("malform:kind=ANY,p=5%", Malform(0.05)),
])
def test_the_design_grammar_parses_to_models_that_round_trip(text, model):
    parsed = parse_spec(text)
    assert parsed == model
    assert parse_spec(parsed.spec()) == parsed
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.p = 0.5  # frozen


@pytest.mark.parametrize("text,words", [
    ("drop:p=1.5", "drop: p must be between 0 and 1, got 1.5"),
    ("drop:p=-0.1", "drop: p must be between 0 and 1"),
    ("drop:p=nan", "drop: p must be between 0 and 1"),
    ("drop:p=abc", "drop: p must be a number, got 'abc'"),
    ("drop", "drop: missing parameter 'p'"),
    ("drop:q=0.1", "drop: unknown parameter 'q'"),
    ("drop:p", "drop: 'p' must look like key=value"),
    ("drop:p=0.1,p=0.2", "drop: parameter 'p' given twice"),
    ("gilbert:p=0.1", "gilbert: missing parameter 'r'"),
    ("gilbert:p=0.1,r=2", "gilbert: r must be between 0 and 1, got 2"),
    ("gilbert:p=0.1,r=0.2,h=1.01", "gilbert: h must be between 0 and 1"),
    ("gilbert:p=0.1,r=0.2,k=-1", "gilbert: k must be between 0 and 1"),
    ("reorder:p=0.1,gap=0", "reorder: gap must be between 1 and 65536 packets, got 0"),
    ("reorder:p=0.1,gap=2.5", "reorder: gap must be a whole number"),
    ("corrupt:p=0.1,layer=tcp", "corrupt: layer must be one of frame, eth, ip, udp, payload"),
    ("truncate:p=0.1,len=0", "truncate: len must be at least 1 byte, got 0"),
    ("delay:jitter=5us", "delay: missing parameter 'mean'"),
    ("delay:mean=1us,jitter=2us", "delay: jitter (2000 ns) must not exceed mean (1000 ns)"),
    ("delay:mean=fast", "delay: mean must be a duration"),
    ("delay:mean=2h", "delay: mean must be a duration"),
    ("wobble:p=0.1", "unknown impairment 'wobble'"),
    ("malform:kind=bogus,p=0.1", "malform: unknown kind 'bogus': choose from ip_options"),
    ("malform:kind=mold_count_mismatch,p=0.1", "malform: unknown kind 'mold_count_mismatch'"),
    ("malform:kind=any+runt,p=0.1", "malform: kind must be any or kind names joined with +"),
    ("malform:kind=ip_options,p=2", "malform: p must be between 0 and 1, got 2"),
    ("malform:kind=runt", "malform: missing parameter 'p'"),
])
def test_bad_specs_raise_config_error_naming_the_parameter(text, words):
    with pytest.raises(ConfigError) as info:
        parse_spec(text)
    assert words in str(info.value)


@pytest.mark.parametrize("specs,words", [
    (["drop:p=0.1", "gilbert:p=0.1,r=0.2"], "drop and gilbert are both loss models"),
    (["reorder:p=0.1,gap=2", "delay:mean=10us"], "reorder and delay both decide the order"),
    (["dup:p=0.1", "dup:p=0.2"], "dup given twice"),
    (["malform:p=0.1", "malform:kind=runt,p=0.2"], "malform given twice"),
])
def test_contradictory_models_are_refused(specs, words):
    with pytest.raises(ConfigError, match=words):
        parse_specs(specs)
    with pytest.raises(ConfigError, match=words):
        Impairer(specs)


def test_models_made_directly_are_validated_too():
    with pytest.raises(ConfigError, match="drop: p must be between 0 and 1"):
        Drop(2)
    with pytest.raises(ConfigError, match="reorder: gap"):
        Reorder(0.1, gap=-1)
    with pytest.raises(ConfigError, match="not an impairment model or SPEC"):
        Impairer([object()])
    assert Drop("0.25").p == 0.25


def test_gilbert_stationary_loss_follows_netem_definition():
    # netem: loss 1-k in GOOD, 1-h in BAD; stationary BAD share p/(p+r)
    ge = GilbertElliott(p=0.01, r=0.3, h=0.5, k=1)
    assert ge.bad_share == pytest.approx(0.01 / 0.31)
    assert ge.loss_rate == pytest.approx(0.01 / 0.31 * 0.5)
    assert GilbertElliott(p=0.2, r=0.2, h=0.0, k=0.9).loss_rate == pytest.approx(0.5 * 0.1 + 0.5)
    assert GilbertElliott(p=0, r=0, k=0.75).loss_rate == pytest.approx(0.25)  # never leaves GOOD


def test_gap_not_smaller_than_the_stream_is_refused():
    impairer = Impairer(["reorder:p=0.5,gap=4"])
    with pytest.raises(ConfigError, match=r"reorder: gap 4 must be smaller than the stream \(4 packets\)"):
        impairer.run([b"x" * 60] * 4)
    assert len(impairer.run([b"x" * 60] * 5).packets) == 5


def test_malform_any_is_every_header_level_kind_but_jumbo_in_the_native_mask():
    from simkit.malformed import native_kinds

    everything = Malform(0.1, tuple(native_kinds()))
    assert Malform(0.1).mask == everything.mask & ~(1 << (native_kinds().index("jumbo") + 1))
    assert Malform(0.1, ("runt",)).mask == 1 << (native_kinds().index("runt") + 1)
