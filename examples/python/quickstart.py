"""Quick start: list the models, stream a reply, continue the conversation.

Run against the emulator:  mixerlead emulator --port 8765 &
  MIXERLEAD_API_KEY=ml_test_demo MIXERLEAD_BASE_URL=http://127.0.0.1:8765/api python quickstart.py
"""

import mixerlead


def main() -> None:
    with mixerlead.Client() as client:
        for model in client.models.list():
            print(f"{model.id:<10} {model.task}{'  (paid)' if model.requires_paid else ''}")

        with client.chat.stream("Write a haiku about rivers", model="ml-auto") as stream:
            for text in stream:
                print(text, end="", flush=True)
        print()

        reply = client.chat.send("Another one, please", conversation_id=stream.conversation_id)
        print(reply.text)

        try:
            client.chat.send("Hi", model="ml-pro")
        except mixerlead.PermissionDeniedError as e:
            print(f"not on this plan: {e.message} (HTTP {e.status_code})")


if __name__ == "__main__":
    main()
