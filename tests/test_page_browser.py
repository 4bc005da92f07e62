"""health_deep's HTML page, rendered by a real browser (headless Chromium): what a person sees."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import override_settings

pytestmark = [pytest.mark.django_db(transaction=True, databases="__all__"), pytest.mark.subprocess]

# The page, not the timing, is under test: generous limits, so a machine busy starting
# Chromium never turns a check into a timeout.
SLOW_OK = {"CACHE_TTL": 0, "STATEMENT_TIMEOUT": 10, "SMOKE_DEADLINE": 10, "DEADLINE": 20}

BANNER = {"pass": (0x1A, 0x7F, 0x37), "warn": (0x9A, 0x67, 0x00), "fail": (0xCF, 0x22, 0x2E)}


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("no Chromium (apt-get install chromium)")
    pytest.skip("no Chromium")


def browse(url: str, screenshot: Path) -> str:
    """The page's DOM after Chromium rendered it, and a screenshot of it."""
    common = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1000,700",
    ]
    subprocess.run(
        [*common, f"--screenshot={screenshot}", url], capture_output=True, timeout=60, check=True
    )
    dom = subprocess.run(
        [*common, "--dump-dom", url], capture_output=True, text=True, timeout=60, check=True
    )
    return dom.stdout


def pixel(png: Path, x: int, y: int) -> tuple[int, int, int]:
    """One pixel of an 8-bit RGB(A) PNG, as Chromium writes them."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    channels = 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, _height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8
            channels = {2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, previous = zlib.decompress(idat), width * channels, bytearray(width * channels)
    for row in range(y + 1):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (
                    line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 0xFF
        previous = line
    r, g, b = previous[x * channels : x * channels + 3]
    return r, g, b


def banner_color(png: Path) -> tuple[int, int, int]:
    return pixel(png, 60, 40)  # inside the status banner, clear of its text


@pytest.fixture
def artifacts() -> Path:
    folder = Path(os.environ.get("HEALTH_DEEP_SCREENSHOTS", "/tmp/health_deep_screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@override_settings(HEALTH_DEEP=SLOW_OK)
def test_a_failing_site_is_red_and_anonymous_viewers_see_ids_only(
    live_server: object, artifacts: Path, restore_django_migrations: None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'testapp'")

    dom = browse(f"{live_server}/health/?format=html", artifacts / "fail-anonymous.png")

    assert 'data-status="fail"' in dom and "Unhealthy" in dom
    assert "health_deep.E101" in dom
    assert "testapp" not in dom  # no object names for anonymous viewers
    assert banner_color(artifacts / "fail-anonymous.png") == BANNER["fail"]


@override_settings(HEALTH_DEEP={**SLOW_OK, "DETAILS": "always"})
def test_a_warning_is_amber_not_red_and_authorised_viewers_see_objects_and_hints(
    live_server: object, artifacts: Path, restore_django_migrations: None
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('testapp', '0099_from_a_newer_release', CURRENT_TIMESTAMP)"
        )

    dom = browse(f"{live_server}/health/?format=html", artifacts / "warn-authorised.png")

    assert 'data-status="warn"' in dom and "Healthy, with warnings" in dom
    assert "testapp.0099_from_a_newer_release" in dom  # the object
    assert "rolling deploy" in dom  # the hint
    assert banner_color(artifacts / "warn-authorised.png") == BANNER["warn"]


@override_settings(HEALTH_DEEP=SLOW_OK)
def test_a_healthy_site_is_green(live_server: object, artifacts: Path) -> None:
    dom = browse(f"{live_server}/health/?format=html", artifacts / "pass.png")

    assert 'data-status="pass"' in dom
    assert banner_color(artifacts / "pass.png") == BANNER["pass"]
