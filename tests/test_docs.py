"""The README stays true: its two commands come first and every setting is documented."""

from assistant.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make run", "make test"]


def test_every_setting_is_in_the_readme():
    missing = [name for name in Settings.model_fields if f"`KHABAR_{name.upper()}`" not in README]
    assert not missing, f"settings missing from README: {missing}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
