"""asyncio: three chats at once on one AsyncClient, and a timeout via asyncio."""

import asyncio

import mixerlead


async def ask(client: mixerlead.AsyncClient, question: str) -> str:
    async with await client.chat.stream(question) as stream:
        return await stream.read()


async def main() -> None:
    async with mixerlead.AsyncClient(max_retries=1) as client:
        replies = await asyncio.gather(*(ask(client, q) for q in ["one", "two", "three"]))
        for reply in replies:
            print(reply)
        try:
            print((await asyncio.wait_for(client.chat.send("quick?"), timeout=30)).text)
        except asyncio.TimeoutError:
            print("gave up waiting (the request was aborted)")


if __name__ == "__main__":
    asyncio.run(main())
