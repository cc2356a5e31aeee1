"""The worker protocol's CommandType names every command a browser worker handles, without a
server: the commands the worker dispatches by name (read from its source) and the program
commands other apps register."""

import ast
import inspect
from typing import get_args

import pytest

from sessions_app.worker import programs, runner
from sessions_app.worker.protocol import CDP_RELAY, PROGRAM_COMMANDS, CommandType

COMMAND_TYPES = set(get_args(CommandType))


def _is_message(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "message"


def _is_message_type(node: ast.AST) -> bool:
    """`message["type"]` or `message.get("type")` (an action's type is another matter)."""
    if isinstance(node, ast.Subscript):
        return (
            _is_message(node.value)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == "type"
        )
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and _is_message(node.func.value)
        and node.func.attr == "get"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == "type"
    )


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def commands_the_runner_names() -> set[str]:
    """Every command type the worker's runner compares a message's type with, or matches on."""
    tree = ast.parse(inspect.getsource(runner))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and _is_message_type(node.left):
            for comparator in node.comparators:
                found |= _strings(comparator)
        elif isinstance(node, ast.Match) and _is_message_type(node.subject):
            for case in node.cases:
                found |= _strings(case.pattern)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "SETTLES_PENDING_STEP" for t in node.targets
        ):
            found |= _strings(node.value)
    return found


def test_every_command_the_runner_handles_by_name_is_a_command_type():
    named = commands_the_runner_names() | CDP_RELAY
    assert "session.execute" in named and "scrape.oneshot" in named  # the source was read
    assert named - COMMAND_TYPES == set()


def test_every_command_type_is_handled_by_name_or_as_a_start_or_a_program():
    # session.start is what the start queue carries when it is not a one-shot scrape.
    handled = commands_the_runner_names() | CDP_RELAY | {"session.start"} | PROGRAM_COMMANDS
    assert COMMAND_TYPES - handled == set()


def test_program_commands_are_command_types_and_each_has_its_registered_handler():
    assert PROGRAM_COMMANDS <= COMMAND_TYPES
    # The agents app registers them when Django starts (its AppConfig.ready).
    for command in PROGRAM_COMMANDS:
        assert programs.handler_for(command) is not None, command


def test_registering_a_program_command_the_protocol_does_not_list_is_refused():
    async def handler(handle, message):
        return None

    with pytest.raises(ValueError, match=r"'shop\.checkout' is not a program command"):
        programs.register("shop.checkout", handler)
    assert programs.handler_for("shop.checkout") is None
