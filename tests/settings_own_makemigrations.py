"""The test settings with two apps whose changes only the site's own ``makemigrations`` judges
right (``tests.mm_cosmetic`` ships that command)."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.mm_cosmetic", "tests.mm_real"]
HEALTH_DEEP = {"CODE_FACTS_DIR": False}  # every run asks the command again
