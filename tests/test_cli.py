"""Tests for the ``korean-gan`` command line (data commands; training is tested elsewhere)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("argv", [["--help"], ["data", "build", "--help"], ["data", "--help"]])
def test_help_does_not_import_tensorflow(argv):
    proc = _run_python(f"""
        import sys
        from korean_gan.cli import main
        assert main({argv!r}) == 0  # main returns the status, even of --help
        heavy = sorted(m for m in ("tensorflow", "keras", "skimage") if m in sys.modules)
        assert not heavy, heavy
        print("OK")
    """)
    assert proc.returncode == 0, proc.stderr
    assert "usage: korean-gan" in proc.stdout and proc.stdout.rstrip().endswith("OK")


def test_package_exports_named_like_their_module_are_the_functions():
    # korean_gan.handwriting.adapt (and .ingest, .distill) is a module and a function of the
    # package: whichever export is asked for first, the package's name is the function.
    proc = _run_python("""
        import korean_gan as kg
        kg.AdaptConfig, kg.IngestConfig, kg.DistillConfig
        from korean_gan.handwriting.adapt import adapt
        from korean_gan.training.distill import distill
        from korean_gan.handwriting.ingest import ingest
        assert (kg.adapt, kg.distill, kg.ingest) == (adapt, distill, ingest)
        print("OK")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("OK")


def test_listing_the_models_does_not_import_tensorflow():
    proc = _run_python("""
        import sys
        from korean_gan.cli import main
        assert main(["models"]) == 0
        heavy = sorted(m for m in ("tensorflow", "keras", "skimage") if m in sys.modules)
        assert not heavy, heavy
        print("OK")
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("hangul, default") and proc.stdout.rstrip().endswith("OK")


def test_console_script_help(tmp_path):
    from pathlib import Path

    script = Path(sys.executable).with_name("korean-gan")
    if not script.exists():
        pytest.skip("console script not installed beside this interpreter")
    proc = subprocess.run([str(script), "data", "build", "--help"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for option in ("--charset", "--fonts", "--augment", "--out", "--format", "--workers"):
        assert option in proc.stdout


def test_data_build(tmp_path, two_fonts, run_cli):
    out = tmp_path / "x.npz"
    code, stdout, stderr = run_cli("data", "build", "--charset", "가나", "--fonts", two_fonts[0],
                                   "--out", out, "--quiet")
    assert code == 0, stderr
    # 2 syllables × 1 font × 5 images (the original and the reference's 4 transforms).
    assert "10 images of 2 syllables" in stdout
    assert "2 glyphs from 1 fonts" in stdout
    assert str(out) in stdout
    with np.load(out) as npz:
        assert npz["images"].shape == (10, 32, 32)
        assert "".join(npz["charset"]) == "가나"
    manifest = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["images"] == 10
    assert (tmp_path / "x.preview.png").is_file()

    code, stdout, _ = run_cli("data", "info", out)
    assert code == 0
    assert "10 images of 32×32 px" in stdout and "가나" in stdout


def test_data_build_options(tmp_path, two_fonts, run_cli):
    out = tmp_path / "y.npz"
    code, stdout, stderr = run_cli(
        "data", "build", "--charset", "가나다", "--fonts", *two_fonts, "--augment", "stroke",
        "--size", "16", "--out", out, "--quiet", "--no-preview")
    assert code == 0, stderr
    assert "18 images of 3 syllables" in stdout                      # 3 × 2 fonts × 3
    with np.load(out) as npz:
        assert npz["images"].shape == (18, 16, 16)
        assert list(npz["augmentations"]) == ["orig", "thick", "thin"]
    assert not (tmp_path / "y.preview.png").exists()


def test_skipped_syllables_are_reported(tmp_path, two_fonts, run_cli):
    code, stdout, stderr = run_cli("data", "build", "--charset", "똠가", "--fonts", two_fonts[0],
                                   "--out", tmp_path / "z.npz", "--quiet")
    assert code == 0, stderr
    assert "skipped 1 syllables" in stdout and "CuteFont-Regular (1)" in stdout


@pytest.mark.parametrize("charset, named", [("가A나", "'A' (U+0041)"), ("가ㄱ", "'ㄱ' (U+3131)"),
                                            ("가나가", "'가'")])
def test_bad_charset_exits_2_with_one_line(tmp_path, two_fonts, run_cli, charset, named):
    out = tmp_path / "bad.npz"
    code, stdout, stderr = run_cli("data", "build", "--charset", charset, "--fonts", two_fonts[0],
                                   "--out", out, "--quiet")
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("korean-gan: error:")
    assert named in lines[0]
    assert not out.exists()


def test_missing_dataset_exits_2(tmp_path, run_cli):
    code, _, stderr = run_cli("data", "info", tmp_path / "missing.npz")
    assert code == 2
    assert stderr.startswith("korean-gan: error:") and "does not exist" in stderr


def test_bad_font_file_is_one_warning_line(tmp_path, two_fonts, bad_fonts, run_cli):
    bad = bad_fonts("random", "broken.ttf")
    out = tmp_path / "w.npz"
    code, stdout, stderr = run_cli("data", "build", "--charset", "가나", "--fonts", two_fonts[0],
                                   bad, "--out", out, "--quiet")
    assert code == 0, stderr
    warning_lines = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith("warning: skipping font:")
    assert "broken.ttf" in warning_lines[0]
    assert "FontSkippedWarning" not in stderr and "Traceback" not in stderr
    assert "10 images of 2 syllables" in stdout and out.is_file()


def test_strict_bad_font_is_an_error(tmp_path, two_fonts, bad_fonts, run_cli):
    bad = bad_fonts("empty", "zero.ttf")
    code, _, stderr = run_cli("data", "build", "--charset", "가", "--fonts", two_fonts[0], bad,
                              "--out", tmp_path / "s.npz", "--quiet", "--strict")
    assert code == 2
    assert stderr.startswith("korean-gan: error:") and "zero.ttf" in stderr


def test_fonts_list(two_fonts, run_cli):
    code, stdout, _ = run_cli("fonts", "list", *two_fonts, "--charset", "seed16")
    assert code == 0
    rows = [line for line in stdout.splitlines() if "Regular" in line]
    assert len(rows) == 2 and all("16/16" in row for row in rows)


def test_unknown_subcommand_is_a_usage_error(run_cli):
    code, out, err = run_cli("nonsense")
    assert code == 2 and out == ""
    assert err == ("korean-gan: error: argument COMMAND: invalid choice: 'nonsense' (choose "
                   "from " + err.split("(choose from ", 1)[1])
    assert err.count("\n") == 1 and err.endswith("; see korean-gan --help\n")


def test_the_exit_status_convention(monkeypatch, capsys, tmp_path):
    """A user error: one line, status 2. A bug: one line naming a log with the traceback,
    status 1. Ctrl-C: status 130."""
    import tempfile

    import korean_gan.cli.generate as generate
    from korean_gan.cli import main

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("KOREAN_GAN_DEBUG", raising=False)
    assert main(["write", "가", "--size", "31", "--out", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("korean-gan: error: size 31")

    def bug(args):
        return {}["no such key"]

    monkeypatch.setattr(generate, "_cmd_styles", bug)
    assert main(["styles"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("korean-gan: internal error (a bug, please report it): KeyError: ")
    log = err.strip().rsplit(" ", 1)[-1]
    assert log.startswith(str(tmp_path)) and log.endswith(".log")
    text = open(log, encoding="utf-8").read()
    assert "Traceback (most recent call last)" in text and "no such key" in text

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(generate, "_cmd_styles", interrupted)
    assert main(["styles"]) == 130
    assert "interrupted" in capsys.readouterr().err
    # KOREAN_GAN_DEBUG=1 shows the bug's traceback instead.
    monkeypatch.setattr(generate, "_cmd_styles", bug)
    monkeypatch.setenv("KOREAN_GAN_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["styles"])
