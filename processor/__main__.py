"""Command line: ``python -m processor <command>``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from processor.settings import Settings, SettingsError


def _topics(args: argparse.Namespace) -> int:
    from processor.adapters.kafka.clients import KafkaUnreachableError, probe_kafka
    from processor.adapters.kafka.topic_admin import TopicSetupError, create_topics

    async def create(settings: Settings) -> dict[str, str]:
        await probe_kafka(settings)  # one line saying why, rather than aiokafka's traceback
        return await create_topics(settings, fix_timestamps=True)

    try:
        settings = Settings.from_env()
        outcome = asyncio.run(create(settings))
    except (SettingsError, TopicSetupError, KafkaUnreachableError) as exc:
        print(f"topics: {exc}", file=sys.stderr)
        return 2
    for name, state in sorted(outcome.items()):
        print(f"{state:8} {name}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from processor.app import main as app_main

    return app_main(args)


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    """Imports a command module only when it runs, so `--help` stays fast."""

    def run(args: argparse.Namespace) -> int:
        command: Callable[[argparse.Namespace], int] = importlib.import_module(module).run
        return command(args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m processor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    topics = commands.add_parser("topics", help="manage the product's Kafka topics")
    topics.add_argument("action", choices=["create"])
    topics.set_defaults(run=_topics)

    run = commands.add_parser("run", help="run the worker until Ctrl-C / SIGTERM")
    run.set_defaults(run=_run)

    classify = commands.add_parser(
        "classify", help="classify JSON Lines {\"body\": ...} from stdin (STOP/START/HELP/none)")
    classify.add_argument("--config", type=Path, help="gateways.yaml with keyword sets")
    classify.add_argument("--gateway", help="gateway id whose keyword set to use")
    classify.set_defaults(run=_lazy("processor.cli.classify"))

    rebuild = commands.add_parser(
        "rebuild-state", help="rebuild the consent store (Redis) from the consent-state topic")
    rebuild.add_argument("--partition", type=int, help="only this partition number")
    rebuild.add_argument("--force", action="store_true",
                         help="run although workers of the group are running")
    rebuild.set_defaults(run=_lazy("processor.cli.rebuild_state"))

    ingress = commands.add_parser(
        "ingress", help="serve carrier webhooks, send requests, commands and the consent API")
    ingress.set_defaults(run=_lazy("processor.ingress.service"))

    rows = commands.add_parser(
        "import", help="import subscriptions from a CSV (phone,gateway,keyword,status) as "
                       "commands; writes a per-row results CSV")
    rows.add_argument("rows", type=Path, help="CSV with the columns phone,gateway,keyword,status")
    rows.add_argument("--actor", required=True, help="who the import is recorded as")
    rows.add_argument("--out", type=Path, help="results CSV (default: <rows>.results.csv)")
    rows.add_argument("--timeout", type=float, default=120.0,
                      help="seconds to wait for the results after the last row was sent")
    rows.add_argument("--quiet", action="store_true", help="no progress bar")
    rows.set_defaults(run=_lazy("processor.cli.import_rows"))

    report = commands.add_parser(
        "report", help="consent changes per day, gateway, transition and source, from the "
                       "sms.consent-events topic")
    report.add_argument("--since", default="7d", help="how far back: 7d, 24h, 90m (default 7d)")
    report.add_argument("--gateway", help="only this gateway")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    report.add_argument("--chart", help="also draw opt-ins and opt-outs per day to this PNG")
    report.set_defaults(run=_lazy("processor.reports.from_topic"))

    evidence = commands.add_parser(
        "evidence", help="a phone's full consent history with its evidence, from the "
                         "sms.consent-events topic (for a dispute)")
    evidence.add_argument("phone", help="the phone, international: +15551234567")
    evidence.add_argument("--gateway", help="only this gateway")
    evidence.add_argument("--format", choices=["table", "json", "csv"], default="table")
    evidence.set_defaults(run=_lazy("processor.cli.evidence"))

    reports = commands.add_parser(
        "reports-service", help="serve live consent reports (/v1/reports, /metrics) from a "
                                "faust table over sms.consent-events")
    reports.set_defaults(run=_lazy("processor.reports.service"))

    token = commands.add_parser(
        "token", help="print a new API token and its tokens-file entry (only the hash is kept)")
    token.add_argument("--actor", required=True, help="who the token acts as")
    token.add_argument("--permission", action="append", default=[], dest="permissions",
                       help="a permission to grant (repeat)")
    token.set_defaults(run=_lazy("processor.cli.token"))

    validate = commands.add_parser(
        "validate", help="validate JSON Lines of one record type from stdin; print invalid lines")
    validate.add_argument("record", help="record name, e.g. inbound, send-request, consent-event")
    validate.add_argument("--config", type=Path,
                          help="gateways.yaml whose regions read national phone spellings")
    validate.set_defaults(run=_lazy("processor.cli.validate"))

    schemas = commands.add_parser(
        "schemas", help="write schemas/*.schema.json from the record Structs (or --check them)")
    schemas.add_argument("--check", action="store_true",
                         help="exit 1 if a committed schema differs from the generated one")
    schemas.set_defaults(run=_lazy("processor.codec.schema_gen"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
