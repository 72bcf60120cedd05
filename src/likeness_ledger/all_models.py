"""Imports every ORM module so ``Base.metadata`` holds every table (Alembic and tests need that)."""

from likeness_ledger.accounts import models as accounts_models
from likeness_ledger.consent import models as consent_models  # noqa: F401 - registers the tables
from likeness_ledger.db import Base
from likeness_ledger.detection import models as detection_models  # noqa: F401 - registers the tables
from likeness_ledger.registry import models as registry_models
from likeness_ledger.transparency import models as transparency_models
from likeness_ledger.usage import models as usage_models  # noqa: F401 - registers the tables
from likeness_ledger.vault import models as vault_models

__all__ = ["Base", "accounts_models", "registry_models", "transparency_models", "vault_models"]
