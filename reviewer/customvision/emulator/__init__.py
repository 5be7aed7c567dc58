"""A local emulator of the Custom Vision Training API v3.3, for tests and demos.

Choices where the service's documentation is silent:
- Suggested order puts the least certain first: the top probability nearest 0.5,
  ties newest first. A continuation holds the last sort key sent, so predictions
  added or deleted while paging neither repeat nor shift the rest.
- Several query tag filters widen the search (any may match), as in GetTaggedImages.
- More than 20 batch tagIds: 400 BadRequestExceedTagPerImageLimit, since batch tags
  apply to every image. Distinct tags across a batch are not capped.
- A prediction already promoted answers OKDuplicate even once deleted or expired;
  promoted predictions stay queryable until deleted.
- Faults (inject, fail_rate, rps_limit) come after the key check and apply to API
  calls only; signed picture links need no key and never fail on purpose.
- An image status set with fail_image answers for that prediction once, even when
  it is already in the training set; the rest of its batch is created as usual.
"""

from reviewer.customvision.emulator.config import EmulatorConfig
from reviewer.customvision.emulator.emulator import Emulator

__all__ = ["Emulator", "EmulatorConfig"]
