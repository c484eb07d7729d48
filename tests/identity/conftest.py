import pytest

STRONG = "tortuga naranja bebe cafe 1987"


@pytest.fixture
def signup_post(curp_factory):
    def build(**overrides):
        data = {
            "curp": curp_factory(),
            "given_names": "Lucía",
            "first_surname": "Treviño",
            "second_surname": "Garza",
            "email": "lucia.trevino@example.mx",
            "phone": "871 123 4567",
            "password": STRONG,
            "password_confirmation": STRONG,
        }
        data.update(overrides)
        return data

    return build
