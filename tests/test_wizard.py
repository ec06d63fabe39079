"""The onboarding wizard, driven by real key presses, and Ctrl-C safety.

Key presses go through prompt_toolkit's pipe input into the questionary
prompts of ``tenantctl onboard``, run in this process against the sandbox.
Each test asserts what GitLab, Keycloak, Vault and the playbook folder hold
afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gitlab
import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tenantctl import engine
from tenantctl.console import Console
from tenantctl.playbook import load_playbook
from tenantctl.sandbox.core import Fault
from tenantctl.steps.base import Change, Context, StepPlan
from tests.conftest import Run, Site, tenantctl

ENTER, DOWN, SPACE = "\r", "\x1b[B", " "
CTRL_C, CTRL_U = "\x03", "\x15"  # interrupt; erase the line typed so far
STEPS = ["group", "keycloak", "pipeline", "runner", "labels", "dashboard", "token"]
PLAYBOOK = Path("playbooks/partners.yml")

Terminal = Callable[..., Run]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """Runs tenantctl as if on a terminal, typing ``keys`` into its prompts.

    The input is closed after the keys, so a test that types too few fails
    (as an interruption) instead of hanging.
    """
    monkeypatch.setattr(Console, "interactive", property(lambda self: True))

    def run(*args: str, keys: list[str]) -> Run:
        with create_pipe_input() as pipe:
            pipe.send_text("".join(keys))
            pipe.close()
            with create_app_session(input=pipe, output=DummyOutput()):
                return tenantctl("onboard", *args)

    return run


PEOPLE = {"alice", "bob", "carol", "dave", "erin", "zed"}


def members_of(site: Site, path: str) -> dict[str, int]:
    """The people among the group's members, with access levels (leaving out
    root, whom GitLab makes Owner as the creator, and token bots)."""
    group = site.gl.groups.get(path)
    members = group.members.list(get_all=True)
    return {m.username: m.access_level for m in members if m.username in PEOPLE}


def keycloak_members(site: Site, name: str) -> set[str]:
    group = site.kc.get_group_by_path(f"/{name}")
    return {m["username"] for m in site.kc.get_group_members(group["id"])}


def top_level_groups(site: Site) -> set[str]:
    groups = site.gl.groups.list(top_level_only=True, get_all=True)
    return {g.full_path for g in groups}


def assert_fully_onboarded(site: Site, tenant: str) -> None:
    group = site.gl.groups.get(tenant)
    assert group.variables.get("CI_GROUP").value == tenant
    assert len(group.runners.list(type="group_type", get_all=True)) == 1
    assert group.labels.list(get_all=True, include_ancestor_groups=False)
    record = site.vault_read(f"tenantctl/tenants/{tenant}/token")
    assert record is not None
    assert group.variables.get("GL_TOKEN").value == record["data"]["token"]


# -- the interactive wizard -----------------------------------------------------


def test_wizard_onboards_a_tenant_after_wrong_answers_are_corrected(
    site: Site, terminal: Terminal
) -> None:
    keys = [
        "Partners Co", ENTER, CTRL_U, "partners", ENTER,  # refused as typed; retyped
        DOWN, ENTER,  # tier: standard
        DOWN, DOWN, SPACE, ENTER,  # override runner_locked ...
        ENTER,  # ... to true
        "zed", ENTER, CTRL_U, "erin", ENTER,  # no such user: asked again
        DOWN, ENTER,  # erin: maintainer
        "carol", ENTER, ENTER,  # carol: developer (the default)
        ENTER,  # no more members
        ENTER,  # labels from administrators (the default)
        CTRL_U, "30", ENTER,  # token lifetime
        "y",  # apply
    ]  # fmt: skip

    result = terminal(keys=keys)

    assert result.code == 0, result.err
    assert "Done." in result.out
    assert top_level_groups(site) == {"administrators", "developers", "partners"}
    assert members_of(site, "partners") == {"erin": 40, "carol": 30}
    assert keycloak_members(site, "partners") == {"erin", "carol"}
    group = site.gl.groups.get("partners")
    runner = site.gl.runners.get(group.runners.list(type="group_type")[0].id)
    assert runner.locked is True  # the override; the standard tier says False
    assert runner.access_level == "not_protected"
    source = site.gl.groups.get("administrators").labels.list(
        get_all=True, include_ancestor_groups=False
    )
    copied = group.labels.list(get_all=True, include_ancestor_groups=False)
    assert {label.name for label in copied} == {label.name for label in source}
    record = site.vault_read("tenantctl/tenants/partners/token")
    assert record is not None
    assert record["data"]["scopes"] == ["read_api"]
    today = dt.datetime.now(dt.UTC).date()
    assert record["data"]["expires_at"] == str(today + dt.timedelta(days=30))
    assert group.variables.get("GL_TOKEN").value == record["data"]["token"]

    book = load_playbook(PLAYBOOK)
    assert book.tenant == "partners"
    assert book.tier.value == "standard"
    assert [(m.username, m.access) for m in book.members] == [
        ("erin", "maintainer"),
        ("carol", "developer"),
    ]
    assert book.labels.source == "administrators"
    assert book.token.lifetime_days == 30
    assert book.overrides.model_dump(exclude_none=True) == {"runner_locked": True}
    text = PLAYBOOK.read_text()
    assert text.startswith("# Tenant playbook: partners, on the standard tier")
    assert "tenantctl onboard --playbook playbooks/partners.yml" in text
    assert "  - username: erin\n    access: maintainer\n" in text
    assert "Wrote playbooks/partners.yml" in result.err


def test_existing_group_is_resumed_when_the_operator_says_so(
    site: Site, terminal: Terminal
) -> None:
    made = site.gl.groups.create({"name": "partners", "path": "partners"})
    keys = [
        "partners", ENTER, "y",  # it exists: resume it
        ENTER,  # tier: strict
        ENTER,  # no overrides
        "alice", ENTER, ENTER, ENTER,  # alice: developer; done
        DOWN, ENTER,  # labels from developers
        ENTER,  # token lifetime: the default
        "y",
    ]  # fmt: skip

    result = terminal(keys=keys)

    assert result.code == 0, result.err
    assert site.gl.groups.get("partners").id == made.id
    assert top_level_groups(site) == {"administrators", "developers", "partners"}
    assert members_of(site, "partners")["alice"] == 30
    assert keycloak_members(site, "partners") == {"alice"}
    assert_fully_onboarded(site, "partners")
    record = site.vault_read("tenantctl/tenants/partners/token")
    assert record is not None and record["data"]["scopes"] == ["api"]
    assert load_playbook(PLAYBOOK).labels.source == "developers"


def test_existing_group_refused_then_ctrl_c_writes_nothing(
    site: Site, terminal: Terminal
) -> None:
    site.gl.groups.create({"name": "partners", "path": "partners"})
    site.reset_counts()
    keys = [
        "partners", ENTER, "n",  # exists, not resumed: the name is asked again
        "newco", ENTER,
        CTRL_C,  # at the tier question
    ]  # fmt: skip

    result = terminal(keys=keys)

    assert result.code == 130
    assert "Nothing was written" in result.err
    assert site.writes() == {}, site.requests()
    assert top_level_groups(site) == {"administrators", "developers", "partners"}
    assert not PLAYBOOK.parent.exists()


def test_ctrl_c_at_the_confirmation_leaves_only_the_playbook(
    site: Site, terminal: Terminal
) -> None:
    site.reset_counts()

    keys = [
        ENTER,  # no overrides
        ENTER,  # labels from administrators
        ENTER,  # the default token lifetime
        CTRL_C,  # at "Apply these changes?"
    ]
    result = terminal("partners", "--tier", "standard", "--member", "erin", keys=keys)

    assert result.code == 130
    assert site.writes() == {}, site.requests()
    assert "partners" not in top_level_groups(site)
    assert site.vault_read("tenantctl/tenants/partners/token") is None
    assert load_playbook(PLAYBOOK).tenant == "partners"
    assert "only playbooks/partners.yml was written" in result.err


def test_declining_to_replace_a_different_playbook_keeps_it(
    site: Site, terminal: Terminal
) -> None:
    PLAYBOOK.parent.mkdir()
    PLAYBOOK.write_text("tenant: partners\ntier: strict\n")
    flags = ["--tier", "standard", "--member", "erin", "--labels-from", "developers"]

    result = terminal("partners", *flags, keys=[ENTER, ENTER, "n"])

    assert result.code == 0
    assert PLAYBOOK.read_text() == "tenant: partners\ntier: strict\n"
    assert "partners" not in top_level_groups(site)


# -- answers from flags, no questions ---------------------------------------------

FLAGS = [
    "--tier",
    "strict",
    "--member",
    "erin:maintainer",
    "--labels-from",
    "developers",
]


def test_flags_answer_every_question(site: Site) -> None:
    result = tenantctl(
        "onboard", "partners", "--no-input", "--yes", *FLAGS,
        "--member", "carol", "--token-lifetime", "45",
        "--override", "staging_deploy=automatic",
        "--override", "token_scopes=read_api,read_repository",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert members_of(site, "partners") == {"erin": 40, "carol": 30}
    assert_fully_onboarded(site, "partners")
    record = site.vault_read("tenantctl/tenants/partners/token")
    assert record is not None
    assert sorted(record["data"]["scopes"]) == ["read_api", "read_repository"]
    book = load_playbook(PLAYBOOK)
    assert book.token.lifetime_days == 45
    assert book.overrides.staging_deploy == "automatic"
    assert book.labels.source == "developers"


def test_no_input_names_every_missing_flag(site: Site) -> None:
    result = tenantctl("onboard", "partners", "--no-input", "--yes", "--tier", "strict")

    assert result.code == 2
    assert "--member USER:LEVEL" in result.err
    assert "--labels-from GROUP" in result.err
    assert "--tier" not in result.err.split("hint")[1]
    assert "--playbook FILE (there is no playbooks/partners.yml)" in result.err
    assert site.writes() == {}
    assert not PLAYBOOK.parent.exists()


def test_no_terminal_without_a_group_names_the_argument(site: Site) -> None:
    result = tenantctl("onboard", "--yes")

    assert result.code == 2
    assert "GROUP (the argument) or --playbook FILE" in result.err
    assert site.writes() == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--member", "zed:developer"], "--member zed:developer: GitLab has no user"),
        (["--member", "erin:boss"], "unknown access level 'boss'"),
        (["--override", "colour=red"], "expected KEY=VALUE with a known KEY"),
        (["--override", "runner_locked=maybe"], "--override runner_locked"),
        (["--labels-from", "nobody"], "--labels-from nobody: GitLab has no such"),
    ],
)
def test_bad_flag_answers_are_refused(
    site: Site, extra: list[str], message: str
) -> None:
    result = tenantctl("onboard", "partners", "--no-input", "--yes", *FLAGS, *extra)

    assert result.code == 2
    assert message in result.err
    assert site.writes() == {}
    assert "partners" not in top_level_groups(site)


def test_existing_group_needs_resume_without_a_terminal(site: Site) -> None:
    args = ["onboard", "developers", "--no-input", "--yes", *FLAGS[:4]]
    args += ["--labels-from", "administrators"]
    site.reset_counts()

    refused = tenantctl(*args)

    assert refused.code == 2
    assert "GitLab group 'developers' already exists" in refused.err
    assert "--resume" in refused.err
    assert site.writes() == {}


def test_different_playbook_needs_overwrite_without_a_terminal(site: Site) -> None:
    PLAYBOOK.parent.mkdir()
    PLAYBOOK.write_text("tenant: partners\ntier: standard\n")
    args = ["onboard", "partners", "--no-input", "--yes", *FLAGS]

    refused = tenantctl(*args)
    replaced = tenantctl(*args, "--overwrite")

    assert refused.code == 2
    assert "--overwrite" in refused.err
    assert replaced.code == 0, replaced.err
    assert load_playbook(PLAYBOOK).tier.value == "strict"
    assert_fully_onboarded(site, "partners")


def test_wizard_flags_and_a_playbook_do_not_mix(site: Site) -> None:
    result = tenantctl("onboard", "-p", "playbooks/x.yml", "--tier", "strict", "-y")

    assert result.code == 2
    assert "--tier answer the wizard's questions" in result.err
    assert site.writes() == {}


# -- Ctrl-C while applying --------------------------------------------------------


def sigint_when(fault: Fault) -> threading.Thread:
    """Sends this process SIGINT once ``fault`` holds a request up."""

    def wait_and_send() -> None:
        deadline = time.monotonic() + 30
        while fault.hits == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=wait_and_send, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_while_applying_stops_at_a_step_boundary(site: Site) -> None:
    # Keycloak answers the group creation slowly; Ctrl-C arrives meanwhile.
    slow = Fault(method="POST", path=r"/realms/platform/groups\?", delay=1.0)
    site.sandbox.keycloak.faults.append(slow)
    handler_before = signal.getsignal(signal.SIGINT)
    sender = sigint_when(slow)

    result = tenantctl(
        "onboard", "partners", "--no-input", "--yes", "-o", "json", *FLAGS
    )
    sender.join()

    assert result.code == 130, result.err
    doc = json.loads(result.out)
    assert doc["interrupted"] is True
    statuses = {step["name"]: step["status"] for step in doc["steps"]}
    assert statuses["group"] == "changed"
    assert statuses["keycloak"] == "changed"  # finished, not cut in half
    assert {statuses[name] for name in STEPS[2:]} == {"not run"}
    assert "To finish: tenantctl onboard --playbook playbooks/partners.yml" in (
        result.err
    )
    assert signal.getsignal(signal.SIGINT) is handler_before
    assert members_of(site, "partners") == {"erin": 40}
    assert keycloak_members(site, "partners") == {"erin"}
    group = site.gl.groups.get("partners")
    assert group.runners.list(type="group_type", get_all=True) == []
    assert site.vault_read("tenantctl/tenants/partners/token") is None
    with pytest.raises(gitlab.GitlabGetError):
        group.variables.get("CI_GROUP")

    rerun = tenantctl("onboard", "--playbook", str(PLAYBOOK), "--yes", "-o", "json")

    assert rerun.code == 0, rerun.err
    again = {step["name"]: step["status"] for step in json.loads(rerun.out)["steps"]}
    assert again["group"] == again["keycloak"] == "unchanged"
    assert {again[name] for name in STEPS[2:]} == {"changed"}
    assert_fully_onboarded(site, "partners")
    assert top_level_groups(site) == {"administrators", "developers", "partners"}


# -- the engine's interruption, with stand-in steps (pure logic) -------------------


class FakeStep:
    """A step with one change that runs ``action``."""

    def __init__(self, name: str, action: Callable[[], None] = lambda: None) -> None:
        self.name = name
        self.title = name
        self.action = action
        self.ran = False

    def plan(self, ctx: Context) -> StepPlan:
        def run() -> None:
            self.action()
            self.ran = True

        return StepPlan(changes=[Change("create", "thing", self.name, run=run)])


class Quiet:
    def step_started(self, result: engine.StepResult) -> None: ...

    def change_applied(self, result: engine.StepResult, change: Change) -> None: ...

    def step_finished(self, result: engine.StepResult) -> None: ...


class FakeContext:
    tenant = "partners"
    dry_run = False


def run_fake(steps: list[FakeStep]) -> engine.RunReport:
    ctx: Any = FakeContext()
    return engine.run(steps, ctx, Quiet())


@pytest.fixture
def no_stale_stop() -> Iterator[None]:
    yield
    assert not engine._stop.is_set()


@pytest.mark.usefixtures("no_stale_stop")
def test_interrupt_hook_from_a_change_stops_after_its_step() -> None:
    steps = [FakeStep("one", engine.interrupt), FakeStep("two"), FakeStep("three")]

    report = run_fake(steps)

    assert report.interrupted
    assert [s.status for s in report.steps] == ["changed", "not run", "not run"]
    assert [s.ran for s in steps] == [True, False, False]
    assert report.done == ["one"]


@pytest.mark.usefixtures("no_stale_stop")
def test_second_ctrl_c_stops_in_the_middle_of_a_step() -> None:
    def press_twice() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    steps = [FakeStep("one"), FakeStep("two", press_twice), FakeStep("three")]
    handler_before = signal.getsignal(signal.SIGINT)

    report = run_fake(steps)

    assert report.interrupted
    assert [s.status for s in report.steps] == ["changed", "failed", "not run"]
    assert report.steps[1].error == "interrupted in the middle of this step"
    assert not steps[1].ran
    assert signal.getsignal(signal.SIGINT) is handler_before


@pytest.mark.usefixtures("no_stale_stop")
def test_a_run_without_ctrl_c_is_not_interrupted() -> None:
    report = run_fake([FakeStep("one"), FakeStep("two")])

    assert not report.interrupted
    assert "interrupted" not in report.as_dict()
    assert [s.status for s in report.steps] == ["changed", "changed"]
