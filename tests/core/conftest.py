import pytest


@pytest.fixture
def url_samples(make_procedure, life_event):
    """Real values for URL parameters, so the walk reaches real pages."""
    procedure = make_procedure(publish=True)
    return {"clave": procedure.clave, "slug": life_event.slug, "pk": str(procedure.pk)}
