from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone


def read_recent_comments(apps, schema_editor):
    """Copies are looked for among the last day's comments (rules.DUPLICATE_WINDOW): those
    get their digest now, older ones never need one."""
    from parley.moderation.rules import reading_digest

    Assessment = apps.get_model("moderation", "Assessment")
    recent = Assessment.objects.filter(
        comment__created_at__gte=timezone.now() - timedelta(days=1)
    ).select_related("comment")
    for assessment in recent.iterator(chunk_size=2000):
        assessment.reading = reading_digest(assessment.comment.body)
        assessment.save(update_fields=["reading"])


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0005_assessment_timed_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="reading",
            field=models.CharField(blank=True, db_index=True, max_length=16),
        ),
        migrations.RunPython(read_recent_comments, migrations.RunPython.noop),
    ]
