# Bengali formats: Django's own bn module, with lakh/crore grouping (12,34,567.50).
from django.conf.locale.bn.formats import *  # noqa: F403

NUMBER_GROUPING = (3, 2, 0)
THOUSAND_SEPARATOR = ","
DECIMAL_SEPARATOR = "."
USE_THOUSAND_SEPARATOR = True
