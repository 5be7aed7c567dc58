import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_sort_keys(apps, schema_editor):
    Prediction = apps.get_model("reviewer", "Prediction")
    Review = apps.get_model("reviewer", "Review")
    of_prediction = Prediction.objects.filter(pk=OuterRef("pk"))
    Review.objects.update(
        uncertainty=Subquery(of_prediction.values("uncertainty")[:1]),
        predicted_at=Subquery(of_prediction.values("created")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reviewer", "0009_service_errors"),
    ]

    operations = [
        migrations.AddField(
            model_name="review",
            name="uncertainty",
            field=models.FloatField(
                default=0.5,
                help_text="How far the prediction's least certain label is from 0.5; "
                "lower is less sure and comes first.",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="predicted_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(copy_sort_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="review",
            name="predicted_at",
            field=models.DateTimeField(help_text="The prediction's time."),
        ),
        migrations.RemoveField(model_name="prediction", name="uncertainty"),
        migrations.RemoveIndex(
            model_name="review", name="reviewer_re_project_da55ca_idx"
        ),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(
                fields=["project", "state", "uncertainty", "prediction"],
                name="reviewer_re_project_2c80bd_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="review",
            index=models.Index(
                fields=["project", "state", "predicted_at", "prediction"],
                name="reviewer_re_project_a16311_idx",
            ),
        ),
        migrations.AlterField(
            model_name="predictedlabel",
            name="tag",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="reviewer.tag",
            ),
        ),
        migrations.AlterField(
            model_name="prediction",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="predictions",
                to="reviewer.project",
            ),
        ),
        migrations.AlterField(
            model_name="review",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="reviewer.project",
            ),
        ),
    ]
