"""CFDI 4.0 data the receipts lacked: TipoDeComprobante, Exportacion and, for público en
general, InformacionGlobal (filled in for the receipts already issued; see payments/cfdi.py)."""

from django.db import migrations, models
from django.utils import timezone


def fill_informacion_global(apps, schema_editor):
    Receipt = apps.get_model("payments", "Receipt")
    receipts = Receipt.objects.filter(receptor_rfc="XAXX010101000", receptor_nombre="PUBLICO EN GENERAL",
                                      informacion_global_periodicidad="").select_related("payment")
    for receipt in receipts.iterator():
        day = timezone.localtime(receipt.payment.paid_at).date()
        receipt.informacion_global_periodicidad = "01"
        receipt.informacion_global_meses = f"{day.month:02d}"
        receipt.informacion_global_anio = day.year
        receipt.save(update_fields=["informacion_global_periodicidad", "informacion_global_meses",
                                    "informacion_global_anio"])


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='receipt',
            name='exportacion',
            field=models.CharField(default='01', max_length=2),
        ),
        migrations.AddField(
            model_name='receipt',
            name='informacion_global_anio',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='receipt',
            name='informacion_global_meses',
            field=models.CharField(blank=True, max_length=2),
        ),
        migrations.AddField(
            model_name='receipt',
            name='informacion_global_periodicidad',
            field=models.CharField(blank=True, max_length=2),
        ),
        migrations.AddField(
            model_name='receipt',
            name='tipo_de_comprobante',
            field=models.CharField(default='I', max_length=1),
        ),
        migrations.RunPython(fill_informacion_global, migrations.RunPython.noop),
    ]
