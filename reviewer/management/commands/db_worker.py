from django_tasks_db.management.commands.db_worker import Command as TaskWorker

from reviewer.services.promotion import resume_abandoned_promotions


class Command(TaskWorker):
    help = (
        f"{TaskWorker.help.rstrip('.')}. On start, it queues again the promotions "
        "that a worker which died left running."
    )

    def handle(self, *args, **options):
        resumed = resume_abandoned_promotions()
        if resumed:
            self.stdout.write(f"Resuming {resumed} promotions a stopped worker left.")
        super().handle(*args, **options)
