from django.apps import AppConfig


class ReviewerConfig(AppConfig):
    name = "reviewer"
    verbose_name = "Prediction reviewer"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from reviewer.security import stamp_new_session

        user_logged_in.connect(stamp_new_session, dispatch_uid="stamp-new-session")
