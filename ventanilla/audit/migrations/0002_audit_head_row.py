from django.db import migrations


def create_head(apps, schema_editor):
    # The single head row exists before the first append, so two first entries written at
    # the same moment both lock it instead of racing to create it.
    AuditHead = apps.get_model("audit", "AuditHead")
    AuditHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
