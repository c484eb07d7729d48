from tests.catalog.conftest import (  # noqa: F401  (fixtures shared with the catalogue suite)
    department,
    doc_ine,
    life_event,
    make_procedure,
    office,
    other_department,
)
