import os

# A web process answers many small searches and runs beside other processes (gunicorn's workers, one
# per core or so): a second math thread per search only makes the threads wait on each other. On a
# busy 2-core machine, two threads made explaining ten results 10x slower (165 ms against 16 ms).
# Set before numpy and torch load, which read these once.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from django.core.wsgi import get_wsgi_application  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesearch.settings")
application = get_wsgi_application()
