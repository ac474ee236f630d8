from django.conf.locale.en.formats import *  # noqa: F403

USE_THOUSAND_SEPARATOR = True
