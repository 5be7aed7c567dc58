from django.contrib.auth.views import LoginView

from reviewer.forms import ThrottledLoginForm


class ThrottledLoginView(LoginView):
    """Django's login page, with a pause after repeated failures."""

    form_class = ThrottledLoginForm
