from django.apps import AppConfig


class AgentsAppConfig(AppConfig):
    name = "agents_app"
    label = "agents_app"
    verbose_name = "Agents"

    def ready(self) -> None:
        # The loop runs in whichever process hosts a browser worker: it is registered as a worker
        # program here, so the worker starts it without ever importing this app. A session that
        # ends (stopped, timed out, its worker lost) ends its agent through a signal, for the
        # same reason.
        from . import receivers, worker_program

        worker_program.register_programs()
        receivers.connect()
