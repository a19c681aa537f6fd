from django.db import models


class Note(models.Model):
    """A note kept in one instance's own database: another instance never sees it."""

    text = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ['id']
