"""A quick reply's variables: which there are, filled in, and what is left for the manager."""

from __future__ import annotations

from crm_appservice import placeholders as p


def test_variables_are_filled_in_and_those_without_a_value_left_and_named() -> None:
    text = "Hi {{contact.first_name}}, {{ order.number }} / {{order.number}} {{manager.name}}"
    done = p.render(text, {"contact.first_name": "Anna", "order.number": None,
                           "manager.name": "  "})  # fmt: skip
    assert done.text == "Hi Anna, {{ order.number }} / {{order.number}} {{manager.name}}"
    assert done.missing == ["order.number", "manager.name"]
    assert done.left == ["{{ order.number }}", "{{order.number}}", "{{manager.name}}"]
    assert p.left_in(done.text) == ["order.number", "manager.name"]


def test_a_value_is_put_in_once_never_read_as_a_variable_again() -> None:
    """A customer calling themselves "{{manager.name}}" is called that, not the manager's name,
    and the reply is not refused for what came in with a value."""
    values = {"contact.name": "{{manager.name}}", "manager.name": "Mo"}
    done = p.render("Hi {{contact.name}}", values)
    assert done.text == "Hi {\u200b{manager.name}\u200b}" and done.missing == []
    assert p.left_in(done.text) == []


def test_known_and_unknown_variables() -> None:
    keys = {"budget", "name"}
    assert p.known(keys)[-1] == "contact.budget" and p.known(keys).count("contact.name") == 1
    text = "{{contact.budget}} {{ Contact.Budget }} {{contact.colour}} {{x.y}}"
    assert p.unknown_in(text, keys) == ["{{contact.colour}}", "{{x.y}}"]
    # The typos a person makes are no variables either: refused when saved.
    for typo in ("{{first_name}}", "{{name}}", "{{contact.first-name}}", "{{contact.first name}}"):
        assert p.unknown_in(f"Hi {typo}!", keys) == [typo]
    assert p.names_in("{{a.b}}{{ A.B }} {{c.d}}") == ["a.b", "c.d"]


def test_only_the_variables_namespaces_are_refused_in_a_reply() -> None:
    text = "Type {{your code}} or {{order.id}} there, {{ Contact.Name }}"
    assert p.left_in(text) == ["order.id", "contact.name"]
    assert p.left_in("{{ coupon }} and {} and {{}}") == []


def test_a_first_name_is_none_of_a_number() -> None:
    assert p.first_name("Anna Maria Schmidt") == "Anna"
    assert [p.first_name(n) for n in ("+49 151 1234567", "(030) 123-45", "", None)] == [None] * 4
