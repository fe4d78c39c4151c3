"""End-to-end test of `newsarc serve` with Python grpcio, a client nobody on
this team wrote. Run by .ci/run (see run.sh): stubs are generated from
proto/ into a temporary folder, the real binary is started on a free
loopback port, and stopped at the end."""

import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

REPO = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("NEWSARC_BIN", REPO / "target" / "debug" / "newsarc"))
LIBRARY = "https://www.news.example.com/zh/city/library-renovation-1001.html"


def generate_stubs(into: pathlib.Path):
    from grpc_tools import protoc

    proto_root = REPO / "proto"
    well_known = pathlib.Path(protoc.__file__).parent / "_proto"
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{well_known}",
            f"--python_out={into}",
            f"--grpc_python_out={into}",
            str(proto_root / "newsarc" / "v1" / "archive.proto"),
        ]
    )
    assert status == 0, "protoc failed"
    sys.path.insert(0, str(into))


@pytest.fixture(scope="module")
def server():
    work = pathlib.Path(tempfile.mkdtemp(prefix="newsarc-py-"))
    (work / "stubs").mkdir()
    generate_stubs(work / "stubs")
    process = subprocess.Popen(
        [str(BINARY), "--store", str(work / "store"), "serve", "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    match = re.search(r" on (127\.0\.0\.1:\d+)", line)
    assert match, f"the server did not say where it listens: {line!r} {process.stderr.read() if process.poll() is not None else ''}"
    channel = grpc.insecure_channel(match.group(1))
    grpc.channel_ready_future(channel).result(timeout=10)
    yield channel
    channel.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, "SIGTERM drains and exits 0"


@pytest.fixture(scope="module")
def api(server):
    from newsarc.v1 import archive_pb2, archive_pb2_grpc

    stub = archive_pb2_grpc.ArchiveStub(server)
    for day, name in enumerate(["01.md", "02.md", "03.md"]):
        for article in ["library-renovation", "river-bridge"]:
            document = (REPO / "examples" / "articles" / article / name).read_bytes()
            stub.Ingest(
                archive_pb2.IngestRequest(
                    document=document,
                    fetched_at=Timestamp(seconds=1_772_400_000 + day * 86_400),
                    source_name=f"{article}/{name}",
                ),
                timeout=10,
            )
    return archive_pb2, stub


def test_ingest_outcomes(api):
    pb, stub = api
    document = (REPO / "examples" / "articles" / "river-bridge" / "03.md").read_bytes()
    response = stub.Ingest(pb.IngestRequest(document=document), timeout=10)
    assert response.outcome == pb.UNCHANGED
    assert response.revision_id.text.startswith("blake3:")
    assert len(response.blob_digest.value) == 32
    # The same bytes at the time they were first sent: nothing is written.
    again = stub.Ingest(
        pb.IngestRequest(document=document, fetched_at=Timestamp(seconds=1_772_400_000 + 2 * 86_400)),
        timeout=10,
    )
    assert again.outcome == pb.ALREADY_ARCHIVED
    assert again.seq == 3


def test_history_with_paging(api):
    pb, stub = api
    seqs, token = [], ""
    while True:
        page = stub.ListHistory(
            pb.ListHistoryRequest(article=LIBRARY, limit=2, page_token=token), timeout=10
        )
        seqs += [entry.revision.seq for entry in page.entries]
        token = page.next_page_token
        if not token:
            break
    assert seqs == [1, 2, 3]

    # The default (BASIC) view leaves out what only the full view carries.
    basic = stub.ListHistory(pb.ListHistoryRequest(article=LIBRARY), timeout=10)
    full = stub.ListHistory(pb.ListHistoryRequest(article=LIBRARY, view=pb.FULL), timeout=10)
    assert basic.entries[1].revision.article_key == ""
    assert not basic.entries[1].revision.HasField("parent")
    assert full.entries[1].revision.article_key != ""
    assert full.entries[1].revision.parent == full.entries[0].revision.id
    assert basic.entries[1].revision.id == full.entries[1].revision.id


def test_get_closest(api):
    pb, stub = api
    reply = stub.GetClosest(
        pb.GetClosestRequest(article=LIBRARY, time=Timestamp(seconds=1_772_400_000 + 90_000)),
        timeout=10,
    )
    assert reply.current.seq == 2
    assert reply.prev.seq == 1 and reply.next.seq == 3
    assert reply.first.seq == 1 and reply.last.seq == 3


def test_diff(api):
    pb, stub = api
    ref = lambda seq: pb.RevisionRef(article_seq=pb.ArticleSeq(article=LIBRARY, seq=seq))
    diff = stub.Diff(pb.DiffRequest(**{"from": ref(1)}, to=ref(2), format=pb.UNIFIED), timeout=10)
    assert diff.change == "body"
    assert diff.stats.sentences_added == 1
    assert "+市图书馆馆长表示，翻新后的图书馆将增设自助借还书机。" in diff.rendered


def test_errors_carry_the_right_codes(api):
    pb, stub = api
    with pytest.raises(grpc.RpcError) as missing:
        stub.ListHistory(pb.ListHistoryRequest(article="https://nowhere.example/x"), timeout=10)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as malformed:
        stub.GetRevision(pb.GetRevisionRequest(revision=pb.RevisionRef(id="abc1")), timeout=10)
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_health(server):
    health = health_pb2_grpc.HealthStub(server)
    reply = health.Check(health_pb2.HealthCheckRequest(service="newsarc.v1.Archive"), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_services(server):
    services = set(ProtoReflectionDescriptorDatabase(server).get_services())
    assert {"newsarc.v1.Archive", "grpc.health.v1.Health"} <= services
