from django.apps import AppConfig


class VaultsAppConfig(AppConfig):
    name = "vaults_app"
    verbose_name = "Vaults"
