"""The Workspace API beyond chat: ground chat on a knowledge source, run a skill, create and run
an agent, keep an artifact. Runs against the emulator unless MIXERLEAD_API_KEY is set:
`python examples/python/workspace.py`."""

from __future__ import annotations

import os
import uuid

import mixerlead
from mixerlead.testing import Emulator


def main(client: mixerlead.Client) -> None:
    added = client.knowledge.add(text="Our refund window is 30 days.", name="Refund policy")
    try:
        client.knowledge.wait_until_indexed([added.id], timeout=60)
    except mixerlead.IndexingError as e:
        print(f"source {e.source_id} failed to index: {e.last_error}")
        return
    print(client.chat.send("How long is the refund window?").text)

    print(client.skills.run("summarize", {"topic": "refunds"}).output)

    agent = client.agents.create(f"Scout {uuid.uuid4().hex[:6]}", "research", {"topic": "refunds"})
    if agent.id is not None:
        try:
            print(client.agents.run(agent.id))
        except mixerlead.PermissionDeniedError as e:
            print(f"not run: {e.message}")

    artifact = client.artifacts.create(name="Refund FAQ", content="30 days.")
    print([a.name for a in client.artifacts.list()], artifact.id)


if __name__ == "__main__":
    if os.environ.get("MIXERLEAD_API_KEY"):
        with mixerlead.Client() as client:
            main(client)
    else:
        with Emulator() as emu, emu.client(project_id="example") as client:
            main(client)
