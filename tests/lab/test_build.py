"""The image build's pure parts, without a build: apt sources per suite."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))
import build  # noqa: E402

DEB822 = """Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def sources_for(suite, text, tmp_path, monkeypatch):
    host = tmp_path / "host.sources"
    host.write_text(text)
    monkeypatch.setenv("LAB_APT_SOURCES", str(host))
    return Path(build._apt_sources(suite, tmp_path)[0]).read_text()


def test_the_host_sources_serve_another_suite_from_the_same_mirrors(tmp_path, monkeypatch):
    trixie = sources_for("trixie", DEB822, tmp_path, monkeypatch)
    assert "Suites: trixie trixie-updates\n" in trixie and "Suites: trixie-security\n" in trixie
    assert trixie.count("http://mirror.example/") == 2 and "bookworm" not in trixie


def test_one_line_sources_too(tmp_path, monkeypatch):
    text = ("deb [arch=amd64] http://mirror.example/debian bookworm main\n"
            "deb http://mirror.example/debian-security bookworm-security main\n")
    assert sources_for("trixie", text, tmp_path, monkeypatch) == text.replace("bookworm", "trixie")


def test_the_host_suite_is_used_as_it_is(tmp_path, monkeypatch):
    assert sources_for("bookworm", DEB822, tmp_path, monkeypatch) == DEB822
