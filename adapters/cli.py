"""``ketenpoort-adapter``: run a reference adapter as its own process.

    ketenpoort-adapter police --export FILE --gateway URL --key KEY [--partner ID] [--once]

Exit codes: 0 done (or stopped by SIGINT/SIGTERM); 1 the adapter cannot run (unreadable
export, gateway unreachable, key not accepted, wrong partner kind); 2 bad usage.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.base import PartnerAdapter
from adapters.corporation import CorporationAdapter
from adapters.exports import MAX_EXPORT_BYTES
from adapters.municipality import MunicipalityAdapter
from adapters.neighbourhood_team import NeighbourhoodTeamAdapter
from adapters.police import PoliceAdapter
from adapters.runner import (
    EXPORT_SETTLE_SECONDS,
    AdapterRunner,
    AdapterStopped,
    install_stop_signals,
)
from adapters.sdk import MAX_WAIT_SECONDS, KetenpoortClient, KetenpoortError
from gateway.auth.keys import load_private_key

ADAPTERS: dict[str, type[PartnerAdapter[Any]]] = {
    cls.command: cls
    for cls in (PoliceAdapter, CorporationAdapter, NeighbourhoodTeamAdapter, MunicipalityAdapter)
}

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Reference partner adapters: answer the gateway's requests from an export file "
    "and push new facts, polling the inbox (no inbound port needed).",
)

ExportOpt = Annotated[
    Path,
    typer.Option(
        "--export",
        help="The partner's export: .json (an array of records), .jsonl or .csv.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]
GatewayOpt = Annotated[
    str,
    typer.Option("--gateway", envvar="KETENPOORT_GATEWAY_URL", help="The gateway's base URL."),
]
KeyOpt = Annotated[
    Path,
    typer.Option(
        "--key",
        envvar="KETENPOORT_ADAPTER_KEY",
        help="The partner's private key (PEM, Ed25519 or P-256) that signs its tokens.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]
PartnerOpt = Annotated[
    str | None,
    typer.Option(
        "--partner",
        envvar="KETENPOORT_PARTNER_ID",
        help="The partner id; default: the key file's name without .pem.",
    ),
]
OnceOpt = Annotated[
    bool, typer.Option("--once", help="Process the inbox once, without waiting, and exit.")
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", min=0, max=MAX_WAIT_SECONDS, help="Seconds each inbox poll may wait for work."
    ),
]
MaxExportOpt = Annotated[
    int,
    typer.Option(
        "--max-export-mb",
        envvar="KETENPOORT_EXPORT_MAX_MB",
        min=1,
        help="The largest export read, in MiB; a larger one stops the adapter (exit 1).",
    ),
]
SettleOpt = Annotated[
    float,
    typer.Option(
        "--settle",
        min=0,
        max=60,
        help="Seconds a changed export must stand still before it is read.",
    ),
]
AudienceOpt = Annotated[
    str,
    typer.Option(
        "--audience",
        envvar="KETENPOORT_AUDIENCE",
        help="The JWT audience the gateway accepts (its KETENPOORT_AUDIENCE).",
    ),
]


def _stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _run(
    command: str,
    export: Path,
    gateway: str,
    key: Path,
    partner: str | None,
    once: bool,
    wait: float,
    audience: str,
    max_export_mb: int,
    settle: float,
) -> None:
    adapter = ADAPTERS[command]()
    partner_id = partner or key.stem

    def say(message: str) -> None:
        print(f"{_stamp()} [{command} {partner_id}] {message}", flush=True)

    def warn(message: str) -> None:
        print(f"{_stamp()} [{command} {partner_id}] {message}", file=sys.stderr, flush=True)

    try:
        private_key = load_private_key(key)
    except (ValueError, TypeError, OSError) as exc:
        # Not a traceback: name the file and what it should be.
        warn(
            f"cannot run: {key} is not a usable private key (unencrypted PEM, Ed25519 or "
            f"P-256, as 'ketenpoort partners keygen' writes): {exc}"
        )
        raise typer.Exit(1) from None

    async def main() -> None:
        async with KetenpoortClient(gateway, partner_id, private_key, audience=audience) as client:
            runner = AdapterRunner(
                adapter,
                client,
                export,
                say=say,
                warn=warn,
                max_export_bytes=max_export_mb * 2**20,
                settle_seconds=settle,
            )
            if once:
                report = await runner.run_once(wait_seconds=0)
                say(
                    f"done: {report.answered} answered, {report.permissions} permission(s), "
                    f"{report.pushed} pushed, {report.waiting} waiting, "
                    f"{report.skipped_rows} bad row(s), {report.failed} failed"
                )
                return
            stop = asyncio.Event()
            install_stop_signals(stop)
            await runner.run(stop, wait_seconds=wait)
            say("stopped")

    try:
        asyncio.run(main())
    except AdapterStopped as exc:
        warn(f"cannot run: {exc}")
        raise typer.Exit(1) from None
    except KetenpoortError as exc:
        warn(f"stopped: {exc}")
        raise typer.Exit(1) from None


def _register(command: str, summary: str) -> None:
    def run(
        export: ExportOpt,
        gateway: GatewayOpt,
        key: KeyOpt,
        partner: PartnerOpt = None,
        once: OnceOpt = False,
        wait: WaitOpt = 25.0,
        audience: AudienceOpt = "ketenpoort",
        max_export_mb: MaxExportOpt = MAX_EXPORT_BYTES // 2**20,
        settle: SettleOpt = EXPORT_SETTLE_SECONDS,
    ) -> None:
        _run(command, export, gateway, key, partner, once, wait, audience, max_export_mb, settle)

    run.__doc__ = summary
    app.command(command)(run)


_register("police", "Police: registrations, violence and intimidation, antecedents, OM consents.")
_register("corporation", "Housing corporation: tenancy facts and permission decisions.")
_register("neighbourhood-team", "Neighbourhood team: known or not, and the care worker.")
_register("municipality", "Municipality: safety knowledge, measures, hygiene advice, case file.")


def main() -> None:
    """Console entry point (``ketenpoort-adapter``)."""
    app()


if __name__ == "__main__":
    main()
