"""The HTML report in a real browser: every figure decodes and paints (headless Chromium).

The report itself carries no script (its Content-Security-Policy forbids scripts and
every network load). The test writes a *copy* whose policy also allows one inline
script, appended by the test, that marks each ``<img>`` with whether it decoded
(``naturalWidth > 0``) and where it was laid out; Chromium's ``--dump-dom`` returns the
marked DOM. A copy with one corrupted image must be caught, so the check can fail. A
full-page screenshot is then checked for painted (non-blank, multi-coloured) pixels
inside every figure's box.

Needs Debian's ``chromium`` package (``apt-get install -y chromium``); skipped, with
that reason, only when no ``chromium`` binary is on PATH. Chromium runs as root here,
hence ``--no-sandbox``; the network-related switches keep it from phoning home.

The screenshot in ``docs/report-screenshot.png`` was made the same way from the full
Adult example (see :data:`SCREENSHOT_COMMAND`).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from privsynth.compliance.audit import AuditInputs, run_audit
from privsynth.compliance.policy import load_policy
from privsynth.compliance.report import write_report
from privsynth.dp.ledger import Ledger
from privsynth.synthesis import SynthesisConfig, run_synthesis

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
COLUMNS = ["age", "workclass", "education", "marital-status", "sex", "race", "hours-per-week",
           "income"]  # fmt: skip
WIDTH = 1280
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=10000")  # fmt: skip
SCREENSHOT_COMMAND = (
    "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=<tmp> "
    "--screenshot=docs/report-screenshot.png --window-size=1280,2000 file://<report>/report.html"
)
#: appended by the test only: marks every image with whether it decoded and its layout box
CHECKER = """<script>
window.addEventListener('load', function () {
  var images = document.images;
  for (var i = 0; i < images.length; i++) {
    var img = images[i], box = img.getBoundingClientRect();
    img.setAttribute('data-loaded', img.complete && img.naturalWidth > 0 ? 'yes' : 'no');
    img.setAttribute('data-box', [box.left + scrollX, box.top + scrollY, box.width,
                                  box.height].map(Math.round).join(','));
  }
  document.body.setAttribute('data-checked', String(images.length));
  document.body.setAttribute('data-height', String(document.documentElement.scrollHeight));
});
</script>"""
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


@pytest.fixture(scope="module")
def chromium() -> str:
    if CHROMIUM is None:
        pytest.skip("no `chromium` binary on PATH (Debian: apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def report(adult_frame: pd.DataFrame, adult_path: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Path:  # fmt: skip
    """A real DP synthesis and audit of part of the bundled Adult sample, as report.html."""
    folder = tmp_path_factory.mktemp("browser")
    real = adult_frame[COLUMNS].head(2000)
    holdout = pd.read_csv(adult_path.parent / "adult_holdout.csv", dtype=str,
                          keep_default_na=False)[COLUMNS].head(1000)  # fmt: skip
    ledger = Ledger(folder / "ledger.db")
    config = SynthesisConfig(
        epsilon=1, generator="mst", residual_scan=False, dataset="adult-browser"
    )
    result = run_synthesis(real, config, ledger=ledger)
    inputs = AuditInputs(
        real=real, synthetic=result.data, holdout=holdout, target="income",
        quasi_identifiers=["age", "sex", "race", "marital-status"], sensitive=["income"],
        ledger=ledger, dataset="adult-browser", run_id=result.run_id,
    )  # fmt: skip
    policies = [load_policy(n) for n in ("gdpr-anonymisation", "hipaa-expert-determination")]
    document, data = run_audit(inputs, policies)
    return write_report(document, data, folder / "report")[1]


def instrumented(page: str) -> str:
    """A copy of the page whose policy allows the test's inline checker, appended to it."""
    policies = CSP_META.findall(page)
    assert len(policies) == 1, "the report must carry exactly one Content-Security-Policy"
    relaxed = html.unescape(policies[0]) + "; script-src 'unsafe-inline'"
    page = page.replace(policies[0], html.escape(relaxed), 1)
    assert page.count("</body>") == 1
    return page.replace("</body>", CHECKER + "</body>")


def run_chromium(chromium: str, profile: Path, *args: str) -> str:
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def image_marks(dom: str) -> list[tuple[str, tuple[int, int, int, int]]]:
    """(loaded, box) of every <img> the checker marked in the dumped DOM."""
    marks = []
    for tag in re.findall(r"<img\b[^>]*>", dom):
        loaded = re.search(r'data-loaded="(\w+)"', tag)
        box = re.search(r'data-box="(-?\d+),(-?\d+),(\d+),(\d+)"', tag)
        assert loaded and box, f"the checker did not run on {tag[:120]}"
        x, y, w, h = (int(v) for v in box.groups())
        marks.append((loaded.group(1), (x, y, w, h)))
    return marks


def test_every_figure_decodes_and_paints(chromium: str, report: Path, tmp_path: Path) -> None:
    page = report.read_text(encoding="utf-8")
    expected = len(re.findall(r"<img\b", page))
    assert expected >= 8  # risks, ROC, DCR, correlations and the marginal plots
    checked = tmp_path / "checked.html"
    checked.write_text(instrumented(page), encoding="utf-8")
    dom = run_chromium(chromium, tmp_path / "profile", f"--window-size={WIDTH},2000",
                       "--dump-dom", checked.as_uri())  # fmt: skip
    assert f'data-checked="{expected}"' in dom, "the checker script did not run"
    marks = image_marks(dom)
    assert [loaded for loaded, _ in marks] == ["yes"] * expected
    height = int(re.search(r'data-height="(\d+)"', dom).group(1))  # type: ignore[union-attr]
    shot = tmp_path / "page.png"
    run_chromium(chromium, tmp_path / "profile", f"--window-size={WIDTH},{height}",
                 f"--screenshot={shot}", checked.as_uri())  # fmt: skip
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    for _, (x, y, w, h) in marks:
        assert w > 200 and h > 150, "figure laid out too small to read"
        figure = pixels[y + 2 : y + h - 2, x + 2 : x + w - 2].reshape(-1, 3)
        inked = (figure < 200).any(axis=1).mean()
        colours = len(np.unique(figure, axis=0))
        assert inked > 0.01 and colours > 20, f"figure at y={y} looks blank"


def test_a_broken_image_is_caught(chromium: str, report: Path, tmp_path: Path) -> None:
    page = report.read_text(encoding="utf-8")
    first = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]{200})', page)
    assert first
    broken = page.replace(first.group(1), "A" * 200, 1)  # not a PNG any more
    checked = tmp_path / "broken.html"
    checked.write_text(instrumented(broken), encoding="utf-8")
    dom = run_chromium(chromium, tmp_path / "profile", f"--window-size={WIDTH},2000",
                       "--dump-dom", checked.as_uri())  # fmt: skip
    loaded = [state for state, _ in image_marks(dom)]
    assert loaded.count("no") == 1 and loaded[0] == "no"


def test_the_report_itself_runs_no_script(chromium: str, report: Path, tmp_path: Path) -> None:
    """Its own policy blocks scripts: the same checker, without the relaxed policy, is inert."""
    page = report.read_text(encoding="utf-8").replace("</body>", CHECKER + "</body>")
    unrelaxed = tmp_path / "unrelaxed.html"
    unrelaxed.write_text(page, encoding="utf-8")
    dom = run_chromium(chromium, tmp_path / "profile", f"--window-size={WIDTH},2000",
                       "--dump-dom", unrelaxed.as_uri())  # fmt: skip
    assert not re.search(r"<body[^>]*data-checked", dom)
    assert not re.search(r'data-loaded="(yes|no)"', dom)
