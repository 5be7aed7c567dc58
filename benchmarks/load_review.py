"""Load-test the review screen: simulated annotators on one project, through gunicorn.

Run with `python -m benchmarks.load_review [--annotators 20] [--seconds 60]`. It
creates a throwaway PostgreSQL database on BENCH_POSTGRES_URL (default the local
server), migrates it, serves an emulator on loopback, syncs its predictions, starts
gunicorn on a free loopback port, and lets each annotator log in through the form,
press Start and decide item after item as the review screen does (one htmx post with
the version and labels the page gave it) until the time is up. Everything stops by
itself, and the database is dropped.

It then checks, from what the annotators saw and from the database: no 5xx answer;
no item leased to two people at once; every decision stored once, as sent; counts
by state that add up. It prints the figures and exits non-zero if a check fails.
"""

import argparse
import html
import random
import re
import secrets
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from itertools import combinations

import requests

from benchmarks.harness import (
    client_of,
    django_on,
    emulator,
    gunicorn,
    machine,
    throwaway_database,
)

PASSWORD = secrets.token_urlsafe(16)
# An annotator decides well under this many items a second: the queue never runs dry.
ITEMS_PER_SECOND = 12
ACTIONS = (("accept", 0.7), ("reject", 0.2), ("skip", 0.1))
STATE_OF = {"accept": "approved", "reject": "rejected", "skip": "skipped"}
CARD = {
    "prediction": re.compile(r'data-prediction="([0-9a-f-]{36})"'),
    "action": re.compile(r'id="review-form" method="post"\s+action="([^"]+)"'),
    "version": re.compile(r'name="version" value="(\d+)"'),
    "labels": re.compile(r'id="review-labels" value="([^"]*)"'),
    "csrf": re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"'),
}


@dataclass(frozen=True)
class Card:
    """What the annotator needs from a review card to decide on it."""

    prediction: str
    action: str
    version: int
    labels: str
    csrf: str

    @classmethod
    def read(cls, page: str) -> "Card | None":
        """Read a card from the HTML, or None when the queue had nothing left."""
        found = {name: pattern.search(page) for name, pattern in CARD.items()}
        if not found["prediction"]:
            return None
        values = {name: html.unescape(match.group(1)) for name, match in found.items()}
        return cls(**{**values, "version": int(values["version"])})


@dataclass(frozen=True)
class Held:
    """An item the server handed one annotator, between two client-side moments."""

    user: str
    prediction: str
    # The lease surely began before `served` and lasted until `released`.
    served: float
    released: float


@dataclass
class Journal:
    """What one annotator sent and saw."""

    user: str
    statuses: Counter = field(default_factory=Counter)
    decide_ms: list[float] = field(default_factory=list)
    decided: dict[str, str] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Annotator:
    """One person reviewing: log in, press Start, decide until the time is up."""

    def __init__(
        self, base: str, project_id: str, user: str, seed: int, actions=ACTIONS
    ) -> None:
        self.base = base
        self.project_id = project_id
        self.actions = actions
        self.journal = Journal(user)
        self.rng = random.Random(seed)
        self.session = requests.Session()

    def log_in(self) -> None:
        form = self._call("login-form", "GET", "/accounts/login/")
        token = CARD["csrf"].search(form.text).group(1)
        answer = self._call(
            "login",
            "POST",
            "/accounts/login/",
            data={
                "username": self.journal.user,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
            },
            allow_redirects=False,
        )
        if "sessionid" not in self.session.cookies:
            raise RuntimeError(
                f"{self.journal.user} could not log in: {answer.status_code}"
            )

    def review_until(self, deadline: float) -> None:
        """Decide item after item; press Start again after a refusal."""
        card, served = None, 0.0
        while time.monotonic() < deadline:
            if card is None:
                card, served = self._start()
                if card is None:
                    return
            card, served = self._decide(card, served)

    def _start(self) -> tuple[Card | None, float]:
        answer = self._call("start", "GET", f"/projects/{self.project_id}/review/")
        return Card.read(answer.text), time.monotonic()

    def _decide(self, card: Card, served: float) -> tuple[Card | None, float]:
        action = self._choose(card)
        sent = time.monotonic()
        answer = self._call(
            "decide",
            "POST",
            card.action,
            data={"action": action, "version": card.version, "labels": card.labels},
            headers={"HX-Request": "true", "X-CSRFToken": card.csrf},
        )
        received = time.monotonic()
        journal = self.journal
        journal.decide_ms.append((received - sent) * 1000)
        journal.held.append(Held(journal.user, card.prediction, served, sent))
        if answer.status_code != 200:
            journal.failures.append(f"{card.prediction}: {answer.status_code}")
            return None, 0.0
        if card.prediction in journal.decided:
            journal.failures.append(
                f"{card.prediction} decided twice by {journal.user}"
            )
        journal.decided[card.prediction] = action
        return Card.read(answer.text), received

    def _choose(self, card: Card) -> str:
        action = self.rng.choices(
            [name for name, _ in self.actions], [weight for _, weight in self.actions]
        )[0]
        if action == "accept" and card.labels in ("", "[]"):
            return "reject"
        return action

    def _call(self, kind: str, method: str, path: str, **options) -> requests.Response:
        try:
            answer = self.session.request(
                method, self.base + path, timeout=30, **options
            )
        except requests.RequestException as error:
            self.journal.statuses[f"{kind} no answer"] += 1
            raise RuntimeError(f"{kind}: {error}") from error
        # TLS would end in front of gunicorn: send its Secure cookies over loopback.
        for cookie in self.session.cookies:
            cookie.secure = False
        self.journal.statuses[f"{kind} {answer.status_code}"] += 1
        for step in answer.history:
            self.journal.statuses[f"{kind} {step.status_code}"] += 1
        return answer


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--database", default="reviewer_load")
    parser.add_argument(
        "--predictions",
        type=int,
        help=f"items in the queue (default {ITEMS_PER_SECOND} per annotator-second)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    predictions = args.predictions or max(
        int(args.annotators * args.seconds * ITEMS_PER_SECOND), 500
    )
    with throwaway_database(args.database) as database_url:
        django_on(database_url)
        with emulator(page_size=256) as server:
            started = time.monotonic()
            project_id = prepare(server, predictions, args.annotators)
            print(
                f"Prepared {predictions:,} predictions in "
                f"{time.monotonic() - started:.0f} s on {machine()}"
            )
            with gunicorn(
                args.workers,
                CUSTOMVISION_ENDPOINT=server.endpoint,
                CUSTOMVISION_TRAINING_KEY=server.config.training_key,
            ) as base:
                journals = review(base, project_id, args.annotators, args.seconds)
        problems = check(journals, project_id, predictions)
    report(journals, args, problems)
    return 1 if problems else 0


def prepare(server, predictions: int, annotators: int) -> str:
    """Collect static files, sync the predictions, make the annotators."""
    collect_static()
    project_id = synced_project(server, predictions)
    make_annotators(annotators)
    return project_id


def collect_static() -> None:
    """Pages name their static files through the manifest collectstatic writes."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def synced_project(server, predictions: int) -> str:
    """Seed a detection project of three boxes over 20 tags and sync it; its id."""
    from reviewer.models import SyncRun
    from reviewer.services.projects import sync_projects
    from reviewer.services.sync import run_sync_run

    project_id = server.seed_synthetic(
        predictions=predictions, tags=20, boxes_per_image=3
    )
    with closing(client_of(server)) as client:
        (project,) = sync_projects(client, only=[project_id])
        run_sync_run(client, SyncRun.objects.create(project=project))
    return project_id


def make_annotators(count: int) -> list[str]:
    """Create annotator-00, annotator-01, ... with PASSWORD; their usernames."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from reviewer.roles import ANNOTATORS

    group = Group.objects.get(name=ANNOTATORS)
    names = [f"annotator-{number:02d}" for number in range(count)]
    for name in names:
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        user.groups.add(group)
    return names


def review(
    base: str, project_id: str, count: int, seconds: float, actions=ACTIONS
) -> list[Journal]:
    """Log everyone in, then let them review at once for `seconds`."""
    annotators = [
        Annotator(base, project_id, f"annotator-{number:02d}", number, actions)
        for number in range(count)
    ]
    for annotator in annotators:
        annotator.log_in()
    together(annotators, keep_reviewing, seconds)
    return [annotator.journal for annotator in annotators]


def together(annotators: list[Annotator], work, seconds: float) -> None:
    """Run `work(annotator, deadline)` for every annotator at once, in threads."""
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=work, args=(annotator, deadline), daemon=True)
        for annotator in annotators
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)


def keep_reviewing(annotator: Annotator, deadline: float) -> None:
    try:
        annotator.review_until(deadline)
    except Exception as error:
        annotator.journal.failures.append(f"stopped: {error}")


def check(journals: list[Journal], project_id: str, total: int) -> list[str]:
    """Return every broken promise; an empty list means the run was clean."""
    from reviewer.models import Review

    reviews = Review.objects.filter(project_id=project_id)
    sent, problems = acknowledged(journals)
    problems += [failure for journal in journals for failure in journal.failures]
    problems += [
        f"{count} answers {status}"
        for status, count in answers(journals).items()
        if status.split()[-1].startswith("5") or "no answer" in status
    ]
    problems += overlapping_leases(journals)
    problems += stored_once(sent, reviews)
    problems += counts_add_up(sent, reviews, total)
    return problems


def answers(journals: list[Journal]) -> Counter:
    return sum((journal.statuses for journal in journals), Counter())


def acknowledged(journals: list[Journal]) -> tuple[dict, list[str]]:
    """Return each decision the server said it saved, by item, as (user, action)."""
    sent: dict[str, tuple[str, str]] = {}
    problems = []
    for journal in journals:
        for prediction, action in journal.decided.items():
            if prediction in sent:
                first = sent[prediction][0]
                problems.append(f"{prediction} decided by {first} and {journal.user}")
            sent[prediction] = (journal.user, action)
    return sent, problems


def overlapping_leases(journals: list[Journal]) -> list[str]:
    """Find an item two people surely held at the same moment."""
    by_item: dict[str, list[Held]] = defaultdict(list)
    for journal in journals:
        for held in journal.held:
            by_item[held.prediction].append(held)
    return [
        f"{prediction} held by {one.user} and {other.user} at once"
        for prediction, spells in by_item.items()
        for one, other in combinations(spells, 2)
        if one.user != other.user
        and max(one.served, other.served) < min(one.released, other.released)
    ]


def stored_once(sent: dict, reviews) -> list[str]:
    """Each acknowledged decision is in the database as sent, written once."""
    stored = {
        str(pk): (user, state, version)
        for pk, user, state, version in reviews.exclude(decided_by=None).values_list(
            "pk", "decided_by__username", "state", "version"
        )
    }
    problems = [
        f"{prediction}: sent {user} {action}, stored {stored.get(prediction)}"
        for prediction, (user, action) in sent.items()
        # A decision bumps the version once: 1 means nobody wrote over it.
        if stored.get(prediction) != (user, STATE_OF[action], 1)
    ]
    if set(stored) != set(sent):
        problems.append(f"{len(sent)} decisions acknowledged, {len(stored)} stored")
    return problems


def counts_add_up(sent: dict, reviews, total: int) -> list[str]:
    """The states add up to every item; nobody holds two leases."""
    from django.db.models import Count

    counts = dict(reviews.values_list("state").annotate(number=Count("pk")))
    expected = Counter(STATE_OF[action] for _, action in sent.values())
    expected["to_review"] = total - len(sent)
    problems = []
    if counts != +expected:
        problems.append(f"counts by state {counts}, expected {dict(expected)}")
    holders = reviews.exclude(leased_by=None).values("leased_by")
    problems += [
        f"user {row['leased_by']} holds {row['leases']} leases"
        for row in holders.annotate(leases=Count("pk"))
        if row["leases"] > 1
    ]
    return problems


def report(journals: list[Journal], args, problems: list[str]) -> None:
    timings = [ms for journal in journals for ms in journal.decide_ms]
    decided = sum(len(journal.decided) for journal in journals)
    cuts = statistics.quantiles(timings, n=100) if len(timings) > 1 else [0.0] * 99
    print(
        f"{args.annotators} annotators for {args.seconds:.0f} s, "
        f"{args.workers} gunicorn workers, PostgreSQL"
    )
    print(f"decisions stored: {decided:,} ({decided / args.seconds:.1f} a second)")
    print(
        f"decide latency: p50 {cuts[49]:.0f} ms, p95 {cuts[94]:.0f} ms, "
        f"max {max(timings, default=0):.0f} ms"
    )
    statuses = sorted(answers(journals).items())
    print("answers: " + ", ".join(f"{status}: {count}" for status, count in statuses))
    if problems:
        print(f"FAILED: {len(problems)} problems")
        for problem in problems[:20]:
            print(f"  {problem}")
    else:
        print("OK: no 5xx, no item held by two people at once, every decision")
        print("stored once as sent, counts by state add up")


if __name__ == "__main__":
    sys.exit(main())
