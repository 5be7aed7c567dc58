"""Pack approved images into as few CreateImagesFromPredictions calls as allowed.

One call carries at most `max_images` images using at most `max_tags` distinct tags,
and one set of metadata, so each metadata group is packed on its own:

- a group using at most `max_tags` tags is cut into full batches;
- a group whose images have one tag each is packed tag by tag: a batch takes whole
  as many of the smallest tags as it can while its largest tags still fill it, and
  the last large tag it takes may continue in the next batch;
- any other group is packed a batch at a time: start from the image with most
  tags, add the tag, or pair of tags, that completes the most waiting images until
  the batch has `max_tags` tags, then take the completed images with most tags first.

No group gets more batches than `next_fit` gives it in arrival order.
"""

from bisect import insort
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain
from typing import Any

from reviewer.customvision.limits import MAX_BATCH_IMAGES, MAX_BATCH_TAGS

Group = tuple[tuple[str, str], ...]
# An image's tags, sorted: images with the same signature pack alike.
Signature = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PackItem:
    """An approved image: the caller's key, its distinct tags and its metadata."""

    key: object
    tag_ids: frozenset[str]
    group: Group = ()


@dataclass(frozen=True, slots=True)
class Batch:
    """Images one call can send together, with their tags and the tags all share."""

    group: Group
    items: tuple[PackItem, ...]
    tag_ids: frozenset[str]
    shared_tag_ids: frozenset[str]


class Unpackable(ValueError):
    """Images no call can carry: without a tag, or with more tags than a call allows.

    The caller's pre-flight removes them before calling `pack`.
    """

    def __init__(self, keys: Sequence[object]) -> None:
        self.keys = tuple(keys)
        super().__init__(
            f"{len(self.keys)} image(s) have no tag or too many tags: {self.keys!r}"
        )


def pack(
    items: Iterable[PackItem],
    *,
    max_images: int = MAX_BATCH_IMAGES,
    max_tags: int = MAX_BATCH_TAGS,
) -> list[Batch]:
    """Pack the images into few batches, each within the limits of one call.

    Batches come group by group, in the order groups first appear; the same images
    always give the same batches. Raises `Unpackable` for images no call can carry.
    """
    batches = []
    for group, members in _groups(items, max_images, max_tags).items():
        for images in _pack_group(members, max_images, max_tags):
            batches.append(_batch(group, images))
    return batches


def lower_bound(
    items: Iterable[PackItem],
    *,
    max_images: int = MAX_BATCH_IMAGES,
    max_tags: int = MAX_BATCH_TAGS,
) -> int:
    """Return a count of batches that no packing of these images can beat."""
    total = 0
    for members in _groups(items, max_images, max_tags).values():
        tags = set().union(*(item.tag_ids for item in members))
        total += max(_ceil(len(members), max_images), _ceil(len(tags), max_tags))
    return total


def next_fit(
    items: Iterable[PackItem],
    *,
    max_images: int = MAX_BATCH_IMAGES,
    max_tags: int = MAX_BATCH_TAGS,
) -> list[Batch]:
    """Pack each group in arrival order; close a batch when the next image won't fit."""
    batches = []
    for group, members in _groups(items, max_images, max_tags).items():
        for images in _next_fit(members, max_images, max_tags):
            batches.append(_batch(group, images))
    return batches


def _groups(
    items: Iterable[PackItem], max_images: int, max_tags: int
) -> dict[Group, list[PackItem]]:
    if max_images < 1 or max_tags < 1:
        raise ValueError("A batch must have room for at least one image and tag.")

    groups: dict[Group, list[PackItem]] = {}
    unpackable = []
    for item in items:
        if not item.tag_ids or len(item.tag_ids) > max_tags:
            unpackable.append(item.key)
        groups.setdefault(item.group, []).append(item)
    if unpackable:
        raise Unpackable(unpackable)
    return groups


def _batch(group: Group, images: list[PackItem]) -> Batch:
    tag_sets = [image.tag_ids for image in images]
    return Batch(
        group=group,
        items=tuple(images),
        tag_ids=frozenset().union(*tag_sets),
        shared_tag_ids=frozenset.intersection(*tag_sets),
    )


def _ceil(count: int, per_batch: int) -> int:
    return -(-count // per_batch)


def _next_fit(
    members: list[PackItem], max_images: int, max_tags: int
) -> list[list[PackItem]]:
    batches: list[list[PackItem]] = []
    tags: set[str] = set()
    for item in members:
        with_item = tags | item.tag_ids
        if not batches or len(batches[-1]) == max_images or len(with_item) > max_tags:
            batches.append([])
            with_item = set(item.tag_ids)
        batches[-1].append(item)
        tags = with_item
    return batches


def _pack_group(
    members: list[PackItem], max_images: int, max_tags: int
) -> list[list[PackItem]]:
    if len(set().union(*(item.tag_ids for item in members))) <= max_tags:
        return [
            members[start : start + max_images]
            for start in range(0, len(members), max_images)
        ]

    if all(len(item.tag_ids) == 1 for item in members):
        batches = _pack_single_tags(members, max_images, max_tags)
    else:
        batches = _pack_mixed_tags(members, max_images, max_tags)

    # The heuristics cannot promise to beat every arrival order; this check does.
    baseline = _next_fit(members, max_images, max_tags)
    return batches if len(batches) <= len(baseline) else baseline


# Single tags: the batch count is exactly the lower bound L in two cases.
# - Every tag has at least ceil((max_images - 1) / (max_tags - 1)) images. Only the
#   tag split by the previous batch may be smaller; it is the smallest, and it plus
#   the max_tags - 1 largest fill a batch, so each batch but the last is full.
# - The max_tags largest tags fit in one batch: each batch takes max_tags whole tags.
# L is not always reachable: with 39 tags of 3 images and one of 11, L is 2, but two
# batches of 20 whole tags hold 60 and 68 images.
def _pack_single_tags(
    members: list[PackItem], max_images: int, max_tags: int
) -> list[list[PackItem]]:
    by_tag: dict[str, list[PackItem]] = {}
    for item in members:
        (tag,) = item.tag_ids
        by_tag.setdefault(tag, []).append(item)

    waiting = sorted(by_tag.values(), key=len)
    batches = []
    while waiting:
        batch, waiting = _fill_by_tag(waiting, max_images, max_tags)
        batches.append(batch)
    return batches


def _fill_by_tag(
    waiting: list[list[PackItem]], max_images: int, max_tags: int
) -> tuple[list[PackItem], list[list[PackItem]]]:
    """Fill one batch from the tags' images, sorted by count; return it and the rest."""
    whole = _smallest_whole([len(images) for images in waiting], max_images, max_tags)
    if whole is None:
        # Any max_tags tags fit: take the largest, whole.
        return list(chain(*waiting[-max_tags:])), waiting[:-max_tags]

    batch = list(chain(*waiting[:whole]))
    rest = waiting[whole:]
    while len(batch) < max_images and rest:
        largest = rest.pop()
        room = max_images - len(batch)
        batch += largest[:room]
        if len(largest) > room:
            insort(rest, largest[room:], key=len)
    return batch, rest


def _smallest_whole(sizes: list[int], max_images: int, max_tags: int) -> int | None:
    """Count the most smallest tags a batch holds whole while its largest fill it."""
    before = list(accumulate(sizes, initial=0))
    for whole in range(min(max_tags, len(sizes)), -1, -1):
        largest_from = max(whole, len(sizes) - (max_tags - whole))
        filled = before[whole] + before[-1] - before[largest_from]
        takes_all = whole == len(sizes)
        if before[whole] <= max_images and (filled >= max_images or takes_all):
            return whole
    return None


def _pack_mixed_tags(
    members: list[PackItem], max_images: int, max_tags: int
) -> list[list[PackItem]]:
    waiting = _Waiting(members)
    batches = []
    while waiting.count:
        growing = _Growing(waiting)
        growing.grow(max_tags)
        batches.append(waiting.take(growing.complete, max_images))
    return batches


class _Waiting:
    """The images of one group that no batch holds yet, indexed by tag."""

    def __init__(self, members: list[PackItem]) -> None:
        self.images: dict[Signature, list[PackItem]] = {}
        for item in members:
            self.images.setdefault(tuple(sorted(item.tag_ids)), []).append(item)
        self.count = len(members)

        self.by_tag: dict[str, list[Signature]] = defaultdict(list)
        self.per_tag: dict[str, int] = defaultdict(int)
        # Images whose only tag is one tag, or whose only tags are a pair.
        self.alone: dict[str, int] = {}
        self.pairs: dict[Signature, int] = {}
        for signature, images in self.images.items():
            for tag in signature:
                self.by_tag[tag].append(signature)
            self._count(signature, len(images))
        # Both lists end with the signature wanted next, so the spent ones pop off.
        self.fewest_tags_last = sorted(self.images, key=len, reverse=True)
        self.most_tags_last = sorted(
            self.images, key=lambda s: (len(s), len(self.images[s]))
        )

    def with_tag(self, tag: str) -> list[Signature]:
        """Return the waiting signatures that use the tag."""
        live = [signature for signature in self.by_tag[tag] if signature in self.images]
        self.by_tag[tag] = live
        return live

    def largest(self) -> Signature:
        """Return the waiting signature with most tags, and then most images."""
        while self.most_tags_last[-1] not in self.images:
            self.most_tags_last.pop()
        return self.most_tags_last[-1]

    def smallest(self, room: int, skip: dict[Signature, int]) -> Signature | None:
        """Return the waiting signature with fewest tags, at most room, not in skip."""
        while self.fewest_tags_last[-1] not in self.images:
            self.fewest_tags_last.pop()
        for signature in reversed(self.fewest_tags_last):
            if len(signature) > room:
                return None
            if signature in self.images and signature not in skip:
                return signature
        return None

    def take(self, complete: list[Signature], max_images: int) -> list[PackItem]:
        """Take up to max_images images, those with the most and rarest tags first."""
        complete.sort(key=lambda s: (-len(s), min(self.per_tag[tag] for tag in s)))
        batch: list[PackItem] = []
        for signature in complete:
            if len(batch) == max_images:
                break
            batch += self._take(signature, max_images - len(batch))
        return batch

    def _take(self, signature: Signature, count: int) -> list[PackItem]:
        images = self.images[signature]
        taken = images[:count]
        if len(images) > count:
            self.images[signature] = images[count:]
        else:
            del self.images[signature]

        self.count -= len(taken)
        self._count(signature, -len(taken))
        return taken

    def _count(self, signature: Signature, change: int) -> None:
        for tag in signature:
            self.per_tag[tag] += change
        if len(signature) == 1:
            _add(self.alone, signature[0], change)
        elif len(signature) == 2:
            _add(self.pairs, signature, change)


class _Growing:
    """A batch being grown a tag at a time, tracking what each tag would complete."""

    def __init__(self, waiting: _Waiting) -> None:
        self.waiting = waiting
        self.tags: set[str] = set()
        self.found: dict[Signature, int] = {}
        self.one_short = dict(waiting.alone)
        self.two_short = dict(waiting.pairs)
        # Signatures by how many tags they miss; stale entries are dropped on reading.
        self.more_short: dict[int, list[Signature]] = defaultdict(list)
        self.complete: list[Signature] = []

    def grow(self, max_tags: int) -> None:
        """Start from the image with most tags; add tags while some image needs them."""
        addition = self.waiting.largest()
        while addition:
            for tag in addition:
                self._add_tag(tag)
            addition = self._best_addition(max_tags - len(self.tags))

    def _best_addition(self, room: int) -> Signature | None:
        if room == 0:
            return None

        # Compare images completed per tag added, doubled to stay in integers.
        best, value = None, 0
        for tag, count in self.one_short.items():
            if 2 * count > value:
                best, value = (tag,), 2 * count
        if room >= 2:
            singles = self.one_short
            for pair, count in self.two_short.items():
                pair_value = count + singles.get(pair[0], 0) + singles.get(pair[1], 0)
                if pair_value > value:
                    best, value = pair, pair_value
        return best or self._fewest_missing(room)

    def _fewest_missing(self, room: int) -> Signature | None:
        touched = self._touched_fewest_missing(room)
        fewer = room if touched is None else len(touched) - 1
        return self.waiting.smallest(fewer, skip=self.found) or touched

    def _touched_fewest_missing(self, room: int) -> Signature | None:
        for missing in sorted(self.more_short):
            if missing > room:
                return None
            live = [
                signature
                for signature in self.more_short[missing]
                if len(signature) - self.found[signature] == missing
            ]
            self.more_short[missing] = live
            if live:
                signature = max(live, key=lambda s: len(self.waiting.images[s]))
                return tuple(tag for tag in signature if tag not in self.tags)
        return None

    def _add_tag(self, tag: str) -> None:
        found, more_short = self.found, self.more_short
        for signature in self.waiting.with_tag(tag):
            found[signature] = found.get(signature, 0) + 1
            missing = len(signature) - found[signature]
            if missing > 2:
                more_short[missing].append(signature)
            else:
                self._recount(signature, tag)
        self.tags.add(tag)

    def _recount(self, signature: Signature, tag: str) -> None:
        """Move the signature's images from the tags it missed to those it misses."""
        images = len(self.waiting.images[signature])
        missed = tuple(t for t in signature if t not in self.tags)
        misses = tuple(t for t in missed if t != tag)
        self._count(missed, -images)
        self._count(misses, images)
        if not misses:
            self.complete.append(signature)

    def _count(self, missing: Signature, change: int) -> None:
        if len(missing) == 1:
            _add(self.one_short, missing[0], change)
        elif len(missing) == 2:
            _add(self.two_short, missing, change)


def _add(counts: dict[Any, int], key: str | Signature, change: int) -> None:
    counts[key] = counts.get(key, 0) + change
    if not counts[key]:
        del counts[key]
