import uuid

from django.db import models


class UUIDModel(models.Model):
    """Public ids are UUID4: unguessable, though authorization never relies on that."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True
