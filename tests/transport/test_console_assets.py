"""Every script module of the console and the admin pages is served (no server needed).

The asset routes answer only the files listed in `console_routes`; a module left off the list
would be a 404 in the browser and break the page that imports it.
"""

from __future__ import annotations

import pytest

from chatserver.transport.console_routes import ADMIN_ASSETS, CONSOLE_ASSETS, CONSOLE_DIR


@pytest.mark.parametrize(("folder", "assets"), [("console", CONSOLE_ASSETS), ("admin", ADMIN_ASSETS)])
def test_every_module_of_a_page_is_listed(folder: str, assets: tuple[str, ...]) -> None:
    scripts = (CONSOLE_DIR / folder).rglob("*.js")
    on_disk = sorted(path.relative_to(CONSOLE_DIR).as_posix() for path in scripts)
    assert on_disk, f"no scripts found under {folder}/"
    listed = sorted(name for name in assets if name.startswith(f"{folder}/") and name.endswith(".js"))
    assert listed == on_disk


def test_every_listed_asset_exists() -> None:
    missing = [name for name in (*CONSOLE_ASSETS, *ADMIN_ASSETS) if not (CONSOLE_DIR / name).is_file()]
    assert missing == []


def test_no_asset_is_listed_twice() -> None:
    for assets in (CONSOLE_ASSETS, ADMIN_ASSETS):
        assert len(set(assets)) == len(assets)
