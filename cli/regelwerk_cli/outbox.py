"""./outbox/: everything the local stack's AWS received to send, as files a person can open.

E-mails come from what SES accepted (.eml, plus the HTML part as .html), SMS from what SNS
accepted (.txt), documents from the S3 bucket (.pdf), tasks from the tasks table, webhooks
from the local receiver (.json); runs/ holds each event's run-log entry, and index.html links
all of it together with why each rule did or did not fire.
"""

from __future__ import annotations

import email
import html
import json
import re
import shutil
from email import policy
from pathlib import Path
from typing import Any

from .cfn import ACCOUNT
from .localstack import REGION

# the outbox's own pages show e-mails as they were sent: no script runs in them, nothing loads from elsewhere
OUTBOX_CSP = (
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data: 'self'; frame-src 'self'; base-uri 'none'\">"
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "x"


def collect(
    outdir: Path, bucket: str, shop_ids: list[str], webhooks: list[dict[str, Any]] | None = None
) -> dict[str, list[dict[str, Any]]]:
    import boto3
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    if outdir.exists():
        shutil.rmtree(outdir)
    for sub in ("mail", "sms", "pdf", "runs", "webhooks"):
        (outdir / sub).mkdir(parents=True)
    found: dict[str, list[dict[str, Any]]] = {"mail": [], "sms": [], "pdf": [], "runs": [], "tasks": [], "webhooks": []}

    for n, sent in enumerate(ses_backends[ACCOUNT][REGION].sent_messages, 1):
        raw = getattr(sent, "raw_data", None)
        if raw is None:
            continue
        msg = email.message_from_bytes(raw.encode(), policy=policy.default)
        base = f"{n:02d}-{_slug(str(msg['To']))}"
        (outdir / "mail" / f"{base}.eml").write_text(raw, encoding="utf-8")
        html_part = msg.get_body(preferencelist=("html",))
        text_part = msg.get_body(preferencelist=("plain",))
        attachments = [p.get_filename() for p in msg.iter_attachments() if p.get_filename()]
        body_html = html_part.get_content() if html_part else f"<pre>{html.escape(text_part.get_content())}</pre>"
        header = (
            f"<p><b>From:</b> {html.escape(str(msg['From']))}<br><b>To:</b> {html.escape(str(msg['To']))}"
            f"<br><b>Subject:</b> {html.escape(str(msg['Subject']))}<br><b>Language:</b> "
            f"{html.escape(str(msg['Content-Language']))}"
            + (f"<br><b>Attachments:</b> {html.escape(', '.join(attachments))}" if attachments else "")
            + "</p><hr>"
        )
        (outdir / "mail" / f"{base}.html").write_text(
            f"<!doctype html><meta charset='utf-8'>{OUTBOX_CSP}<title>{html.escape(str(msg['Subject']))}</title>"
            f"{header}{body_html}",
            encoding="utf-8",
        )
        for part in msg.iter_attachments():
            if part.get_filename():
                # the attachment's bytes as sent, whatever its type (a PDF, a CSV export, any file)
                data = part.get_payload(decode=True)
                target = outdir / "mail" / f"{base}-{_slug(part.get_filename())}"
                target.write_bytes(data if isinstance(data, bytes) else b"")
        found["mail"].append(
            {
                "file": f"mail/{base}.html",
                "eml": f"mail/{base}.eml",
                "to": str(msg["To"]),
                "subject": str(msg["Subject"]),
                "language": str(msg["Content-Language"]),
                "attachments": attachments,
                "action_id": "".join(str(msg["X-Regelwerk-Action"] or "").split()),  # unfolded
            }
        )

    for n, (_mid, (phone, text)) in enumerate(sns_backends[ACCOUNT][REGION].sms_messages.items(), 1):
        name = f"sms/{n:02d}-{_slug(phone)}.txt"
        (outdir / name).write_text(f"To: {phone}\n\n{text}\n", encoding="utf-8")
        found["sms"].append({"file": name, "to": phone, "text": text})

    s3 = boto3.client("s3", region_name=REGION)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith(".pdf"):  # the shop's logo, exports: not documents sent
                continue
            name = "pdf/" + _slug(obj["Key"].split("/")[-1])
            if (outdir / name).exists():
                name = name.replace(".pdf", f"-{_slug(obj['Key'].split('/')[-2])}.pdf")
            (outdir / name).write_bytes(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            found["pdf"].append({"file": name, "key": obj["Key"]})

    for n, hook in enumerate(webhooks or [], 1):
        name = f"webhooks/{n:02d}-{_slug(hook['path'])}.json"
        (outdir / name).write_text(json.dumps(hook, indent=2, ensure_ascii=False), encoding="utf-8")
        found["webhooks"].append(hook | {"file": name})

    from regelwerk.actions.tasks import list_tasks
    from regelwerk.store.runs import list_runs

    for shop_id in shop_ids:
        found["tasks"].extend(list_tasks(shop_id, limit=200)["tasks"])

    for shop_id in shop_ids:
        for run in list_runs(shop_id):
            name = f"runs/{_slug(run['received_at'])}-{run['run_id']}.json"
            (outdir / name).write_text(json.dumps(run, indent=2, ensure_ascii=False), encoding="utf-8")
            found["runs"].append(run | {"file": name})
    deliveries = {aid: d for run in found["runs"] for aid, d in run.get("deliveries", {}).items()}
    for m in found["mail"]:
        due = deliveries.get(m["action_id"], {}).get("due")
        if due:  # a delayed action: it went out when the (local) clock reached its time
            m["delayed_until"] = due
    _index(outdir, found)
    return found


def _index(outdir: Path, found: dict[str, list[dict[str, Any]]]) -> None:
    e = html.escape
    rows = []
    for m in found["mail"]:
        att = f" (attached: {e(', '.join(m['attachments']))})" if m["attachments"] else ""
        if m.get("delayed_until"):
            att += f" <b>delayed, sent when the clock reached {e(m['delayed_until'])}</b>"
        rows.append(
            f"<li><a href='{e(m['file'])}'>{e(m['subject'])}</a> → {e(m['to'])} [{e(m['language'])}]"
            f"{att} (<a href='{e(m['eml'])}'>.eml</a>)</li>"
        )
    sms = [f"<li><a href='{e(s['file'])}'>{e(s['to'])}</a>: {e(s['text'])}</li>" for s in found["sms"]]
    pdfs = [f"<li><a href='{e(p['file'])}'>{e(p['file'].split('/')[-1])}</a></li>" for p in found["pdf"]]
    tasks = [
        f"<li><b>{e(t['title'])}</b> [{e(t['state'])}] for {e(t.get('assignee') or 'anyone')}, due "
        f"{e(str(t.get('due') or '-'))[:16]} (rule {e(t['rule'])})<pre>{e(t.get('body') or '')}</pre></li>"
        for t in found["tasks"]
    ]
    hooks = [
        f"<li><a href='{e(h['file'])}'>POST {e(h['path'])}</a>: {e(h['body'].get('type', ''))} of order "
        f"{e(str((h['body'].get('order') or {}).get('number')))}, signature "
        f"{'valid' if h['signature_valid'] else '<b>INVALID</b>'}</li>"
        for h in found["webhooks"]
    ]
    runs = []
    for run in found["runs"]:
        parts = []
        for ev in run.get("events", []):
            lines = []
            for r in ev["rules"]:
                mark = "<span class='fired'>fired</span>" if r["fired"] else "<span class='skip'>skipped</span>"
                lines.append(f"<li>{mark} <b>{e(r['rule'])}</b>: {e(r['reason'])}</li>")
            parts.append(f"<p><code>{e(ev['type'])}</code></p><ul>{''.join(lines)}</ul>")
        if run.get("note"):
            parts.append(f"<p><i>{e(run['note'])}</i></p>")
        cause = run.get("caused_by")
        if cause:
            parts.insert(
                0,
                f"<p>⤷ a status change made by rule <b>{e(cause['rule'])}</b> (chain depth {cause['depth']}) "
                f"in run <code>{e(cause['run_id'])}</code></p>",
            )
        deliveries = "".join(
            f"<li><code>{e(aid.split(':', 2)[-1])}</code>: <b>{e(d['state'])}</b>"
            + (f" – {e(str(d.get('reason')))}" if d.get("reason") else "")
            + (f" (id {e(str(d.get('provider_id')))[:40]})" if d.get("provider_id") else "")
            + (f", delayed until {e(str(d['until']))[:16]}" if d.get("until") else "")
            + (f" – {e(str(d['note']))}" if d.get("note") else "")
            + "</li>"
            for aid, d in sorted(run.get("deliveries", {}).items())
        )
        runs.append(
            f"<section><h3>{e(run.get('order_number') or run.get('invoice_number') or run['run_id'])}"
            f" – {e(run['received_at'])} – <span class='{e(run['status'])}'>{e(run['status'])}</span></h3>"
            f"{''.join(parts)}<ul>{deliveries}</ul><p><a href='{e(run['file'])}'>run log entry</a></p>"
            f"</section>"
        )
    page = f"""<!doctype html><meta charset="utf-8">{OUTBOX_CSP}<title>Regelwerk outbox</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
section{{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:.5rem 0}}
.failed,.dead_lettered{{color:#b00}} .completed,.fired{{color:#070}} .skip{{color:#888}}
.fired,.skip{{display:inline-block;width:4.5em;font-size:.85em}}</style>
<h1>Regelwerk outbox</h1>
<h2>E-mails ({len(found["mail"])})</h2><ul>{"".join(rows)}</ul>
<h2>SMS ({len(found["sms"])})</h2><ul>{"".join(sms)}</ul>
<h2>Documents ({len(found["pdf"])})</h2><ul>{"".join(pdfs)}</ul>
<h2>Tasks ({len(found["tasks"])})</h2><ul>{"".join(tasks)}</ul>
<h2>Webhooks received ({len(found["webhooks"])})</h2><ul>{"".join(hooks)}</ul>
<h2>Run log: why each rule did or did not fire</h2>{"".join(runs)}
"""
    (outdir / "index.html").write_text(page, encoding="utf-8")
