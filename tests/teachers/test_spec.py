"""Teacher specs, flags and the API-key rules (no server needed)."""

from __future__ import annotations

import pytest

from synth.errors import UserError
from synth.teachers.flags import TeacherFlags, teacher_from
from synth.teachers.spec import api_key, parse_spec, route_url, scrub


def test_openai_spec_needs_a_model_and_normalises_the_base_url():
    spec = parse_spec("openai:http://host:8000", "m")
    assert (spec.kind, spec.target, spec.model, spec.label) == ("openai", "http://host:8000/v1", "m", "m")
    assert parse_spec("openai:https://api.example.com/v1/", "m").target == "https://api.example.com/v1"
    assert route_url("https://x.test/openai?api-version=2024", "/chat/completions") == \
        "https://x.test/openai/chat/completions?api-version=2024"
    with pytest.raises(UserError, match="needs --model"):
        parse_spec("openai:http://host:8000")


@pytest.mark.parametrize("url", ["http://user:pw@host/v1", "https://host/v1?api_key=abc", "https://host/v1?token=x"])
def test_credentials_in_the_url_are_refused(url):
    with pytest.raises(UserError, match="SYNTH_API_KEY"):
        parse_spec(f"openai:{url}", "m")


def test_vllm_spec_names_the_model_after_its_folder(tmp_path):
    model = tmp_path / "Qwen3-8B"
    model.mkdir()
    (model / "config.json").write_text("{}")
    spec = parse_spec(f"vllm:{model}")
    assert spec.model == "Qwen3-8B" and spec.label == "Qwen3-8B" and spec.target == str(model)
    with pytest.raises(UserError, match="no config.json"):
        parse_spec(f"vllm:{tmp_path / 'missing'}")


@pytest.mark.parametrize("bad", ["gpt4", "vllm:", "http://x", "hf:model"])
def test_bad_specs_say_what_is_expected(bad):
    with pytest.raises(UserError, match="vllm:MODEL_PATH, openai:URL or none"):
        parse_spec(bad)


def test_none_has_no_label_and_commands_can_require_a_teacher():
    assert parse_spec("none").label is None and parse_spec(None).kind == "none"
    with pytest.raises(UserError, match="needs a teacher"):
        teacher_from(TeacherFlags(teacher="none"), allow_none=False)


def test_key_comes_from_the_environment_in_order_and_is_scrubbed(monkeypatch):
    monkeypatch.delenv("SYNTH_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert api_key() is None and scrub("nothing to hide") == "nothing to hide"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-1234")
    assert api_key() == "sk-openai-1234"
    monkeypatch.setenv("SYNTH_API_KEY", "sk-synth-5678")
    assert api_key() == "sk-synth-5678"
    assert scrub("Bearer sk-synth-5678 was refused") == "Bearer *** was refused"


def test_flags_build_options_and_reject_unknown_structured_modes():
    teacher = teacher_from(TeacherFlags(teacher="openai:http://h/v1", model="m", temperature=0.2,
                                        max_tokens=32, max_concurrency=3, retries=1, seed=5,
                                        engine_arg=["--enforce-eager"]))
    opts = teacher.options
    assert (opts.temperature, opts.max_tokens, opts.max_concurrency, opts.retries, opts.seed) == (0.2, 32, 3, 1, 5)
    assert opts.engine_args == ("--enforce-eager",) and opts.sampling() == {"temperature": 0.2, "max_tokens": 32}
    with pytest.raises(UserError, match="--structured"):
        teacher_from(TeacherFlags(teacher="none", structured="grammar"))
