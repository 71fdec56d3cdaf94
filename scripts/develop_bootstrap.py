"""Prepare the development Home Assistant started by scripts/develop.

Waits for HA on http://127.0.0.1:8123, onboards it with the development user (once), and
adds the simulated SML meter from scripts/simulate through our real config flow (once), so
a newcomer who opens the page sees a meter with live values. Uses only HA's public HTTP API.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import aiohttp

BASE = "http://127.0.0.1:8123"
CLIENT_ID = f"{BASE}/"
USER = {"name": "Developer", "username": "dev", "password": "dev-hems", "language": "en"}
SIMULATOR = {"host": "127.0.0.1", "port": 8899}


async def wait_for_ha(session: aiohttp.ClientSession) -> list[dict[str, Any]]:
    """Wait until HA answers; return the onboarding steps."""
    for _ in range(600):
        try:
            async with session.get(f"{BASE}/api/onboarding") as response:
                if response.status == 200:
                    steps: list[dict[str, Any]] = await response.json()
                    return steps
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(1)
    raise SystemExit("Home Assistant did not start within 10 minutes")


async def token_from_code(session: aiohttp.ClientSession, code: str) -> str:
    data = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID}
    async with session.post(f"{BASE}/auth/token", data=data) as response:
        response.raise_for_status()
        token: str = (await response.json())["access_token"]
        return token


async def login(session: aiohttp.ClientSession) -> str:
    """Log in with the development user through the login flow."""
    flow_url = f"{BASE}/auth/login_flow"
    start = {
        "client_id": CLIENT_ID,
        "handler": ["homeassistant", None],
        "redirect_uri": CLIENT_ID,
    }
    async with session.post(flow_url, json=start) as response:
        flow = await response.json()
    credentials = {"username": USER["username"], "password": USER["password"]}
    credentials["client_id"] = CLIENT_ID
    async with session.post(f"{flow_url}/{flow['flow_id']}", json=credentials) as response:
        result = await response.json()
    if result.get("type") != "create_entry":
        raise SystemExit(f"cannot log in as {USER['username']}: {result}")
    return await token_from_code(session, result["result"])


async def onboard(session: aiohttp.ClientSession, steps: list[dict[str, Any]]) -> str:
    """Finish onboarding (first start) or log in; return an access token."""
    done = {step["step"] for step in steps if step["done"]}
    if "user" in done:
        return await login(session)
    async with session.post(
        f"{BASE}/api/onboarding/users", json={**USER, "client_id": CLIENT_ID}
    ) as response:
        response.raise_for_status()
        token = await token_from_code(session, (await response.json())["auth_code"])
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}),
    ):
        async with session.post(
            f"{BASE}/api/onboarding/{step}", json=body, headers=headers
        ) as response:
            if response.status not in (200, 403):  # 403: that step was already done
                raise SystemExit(f"onboarding step {step} failed: {response.status}")
    print(f"onboarded: log in as {USER['username']} / {USER['password']}")
    return token


async def add_simulated_meter(session: aiohttp.ClientSession, token: str) -> None:
    """Add the simulator's meter through the hems config flow, unless it is there."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(
        f"{BASE}/api/config/config_entries/entry", params={"domain": "hems"}, headers=headers
    ) as response:
        if await response.json():
            return
    flow_url = f"{BASE}/api/config/config_entries/flow"
    async with session.post(flow_url, json={"handler": "hems"}, headers=headers) as response:
        result = await response.json()
    answers: dict[str, dict[str, Any]] = {
        "user": {"next_step_id": "sml"},
        "sml": {"next_step_id": "sml_tcp"},
        "sml_tcp": SIMULATOR,
    }
    for _ in range(5):
        if result.get("type") != "form" and result.get("type") != "menu":
            break
        if result.get("errors"):
            print(f"could not add the simulated meter: {result['errors']}", file=sys.stderr)
            return
        answer = answers.get(result["step_id"], {})
        async with session.post(
            f"{flow_url}/{result['flow_id']}", json=answer, headers=headers
        ) as response:
            result = await response.json()
    if result.get("type") != "create_entry":
        print(f"could not add the simulated meter: {result}", file=sys.stderr)
        return
    print(f"added the simulated meter: {result['title']}")


async def remove_online_defaults(session: aiohttp.ClientSession, token: str) -> None:
    """Onboarding adds default integrations; those needing the internet only clutter the log."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(f"{BASE}/api/config/config_entries/entry", headers=headers) as response:
        entries = await response.json()
    for entry in entries:
        if entry["domain"] in ("met", "radio_browser", "google_translate"):
            url = f"{BASE}/api/config/config_entries/entry/{entry['entry_id']}"
            async with session.delete(url, headers=headers):
                pass


async def main() -> None:
    async with aiohttp.ClientSession() as session:
        token = await onboard(session, await wait_for_ha(session))
        await add_simulated_meter(session, token)
        await remove_online_defaults(session, token)
    print(f"Home Assistant is ready on {BASE} (user {USER['username']}, {USER['password']})")


if __name__ == "__main__":
    asyncio.run(main())
