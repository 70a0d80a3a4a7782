"""Every page of the portal, as each role sees it: the crawl behind the axe and Nu checks.

To cover a new page, add it here and both checks pick it up:

* a plain page that answers 200: add its path to the role's list in ``crawl.py``
  (``MEMBER``, ``STAFF``...; a role's list includes the lists of the roles below it, whose
  pages look different to it);
* a page that answers an error status: add ``path: status`` to ``ERROR_PAGES[crawl]``;
* a page that needs setup (a token from a mail, a form sent with errors, an htmx state):
  write a function decorated with ``@state("member", ...)`` in the module of its area
  (``accounts``, ``membership``, ``shares``, ``documents``, ``meetings``, ``elections``,
  ``staff``). It gets a
  :class:`Site` and either returns the document response to check (``site.goto(path)`` or
  the response of a form it submitted) or returns ``None`` after changing the page in
  place (an htmx swap), in which case the live DOM is checked.

A crawl is a role signed in on its own live server: ``"anonymous"``, ``"member"``,
``"staff"``, ``"admin"``, and ``"applicant"`` (approved, the membership share unpaid)
(``CRAWL_CONFIG`` can give a crawl's app other settings).
"""

from __future__ import annotations

# The areas' pages register themselves with @state when imported.
from . import (  # noqa: F401
    accounts,
    election_results,
    elections,
    hybrid,
    live,
    meetings,
    membership,
    motions,
    shares,
    staff,
)
from .crawl import CRAWL_CONFIG, CRAWLS, Site, Visited, crawl_pages, role_of, visits_for
from .documents import stock_library


def populate(site: Site) -> None:
    """Give a crawl's co-op its documents, applicants and members, so pages show real data.

    The crawl's own user becomes an artist member (staff and admins too), so every member
    page has something to show; in the applicant crawl, an approved artist whose membership
    share is not yet paid, so their pages show what to pay.
    """
    stock_library(site)  # first, so that applicants accept the rulebook
    for n, state in enumerate(("submitted", "needs_info", "rejected", "awaiting_share")):
        site.make.applicant(name=f"Applicant {n}", email=f"applicant{n}@example.org", state=state)
    if site.user is None:
        return
    if site.crawl.removesuffix("-debug") == "applicant":
        site.make.applicant(email=site.user.email, state="awaiting_share")
    else:
        site.member = site.make.member(email=site.user.email)


__all__ = [
    "CRAWLS",
    "CRAWL_CONFIG",
    "Site",
    "Visited",
    "crawl_pages",
    "populate",
    "role_of",
    "visits_for",
]
