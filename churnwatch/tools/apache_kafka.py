"""Apache Kafka on demand: a pinned release resolved by Maven, run as a KRaft cluster of one
or three combined broker+controller nodes on loopback.

For the broker tier of the tests, the benchmarks, the fault suite and a first look at the
real thing; production runs its own cluster. The jars come from Maven Central into a cache
folder (first use fetches, ~10 s; later uses start at once); each node is a JVM with a
heap sized for a 2-core, 24 GB machine (three nodes and the tests beside them).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from churnwatch.errors import UserError
from churnwatch.tools.children import die_with_parent

KAFKA_VERSION = "4.1.1"
"""The Apache Kafka release the tests and benchmarks run on (KRaft only since 4.0)."""
_LOG4J_VERSION = "2.24.3"  # Kafka 4.1's own; routes its slf4j logging to log4j2
HEAP = ("-Xms256m", "-Xmx768m")
"""Per node: three nodes and a loaded test suite fit the 24 GB machine many times over,
and a heap this small keeps G1's pauses short."""
_JVM = (*HEAP, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true")

_POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>churnwatch</groupId><artifactId>apache-kafka-runtime</artifactId>
  <version>{KAFKA_VERSION}</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId><version>{_LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
"""

INSTALL_HINT = ("install Java 17+ and Maven (Debian: apt-get install openjdk-17-jre-headless "
                "maven), or use the embedded broker (--kind tansu)")


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/churnwatch`` (or ``~/.cache/churnwatch``): outside any checkout."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "churnwatch" / f"apache-kafka-{KAFKA_VERSION}"


def kafka_classpath(cache: Path | None = None) -> str:
    """The release's jars, resolved once with Maven into ``cache/lib``. A file lock makes
    concurrent first uses (two test sessions side by side) resolve once."""
    folder = cache or default_cache()
    folder.mkdir(parents=True, exist_ok=True)
    lib, done = folder / "lib", folder / "resolved"
    with _locked(folder / ".lock"):
        if not done.exists():
            _require_tools()
            (folder / "pom.xml").write_text(_POM)
            (folder / "log4j2.properties").write_text(_LOG4J2)
            shutil.rmtree(lib, ignore_errors=True)
            run = subprocess.run(
                ["mvn", "-q", "-B", "-f", str(folder / "pom.xml"),
                 "dependency:copy-dependencies", f"-DoutputDirectory={lib}",
                 "-DincludeScope=runtime"],
                capture_output=True, text=True, check=False)
            if run.returncode:
                raise UserError(f"Maven could not resolve Apache Kafka {KAFKA_VERSION}: "
                                f"{(run.stdout + run.stderr).strip()[-1500:]}")
            done.write_text(KAFKA_VERSION + "\n")
    return f"{lib}/*"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _require_tools() -> None:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        raise UserError(f"Apache Kafka needs {' and '.join(missing)} on the PATH: "
                        + INSTALL_HINT)
    version = subprocess.run(["java", "-version"], capture_output=True, text=True,
                             check=False).stderr
    major = re.search(r'version "(\d+)', version)
    if major and int(major.group(1)) < 17:
        raise UserError(f"Apache Kafka {KAFKA_VERSION} needs Java 17 or newer, found "
                        f"{major.group(1)}: " + INSTALL_HINT)


def free_ports(count: int, *, first: int | None = None) -> list[int]:
    """``count`` loopback ports nobody listens on now, ``first`` first when given."""
    ports = [first] if first else []
    with contextlib.ExitStack() as held:  # held together, so no two are the same
        while len(ports) < count:
            s = held.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    return ports


@dataclass
class KafkaNode:
    """One combined broker+controller JVM; its folder keeps config, data and log, so it
    can be killed, paused and started again as the same node."""

    node_id: int
    port: int
    controller_port: int
    home: Path
    classpath: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "kafka.log"

    def start(self) -> None:
        out = self.log.open("ab")
        # own session: a Ctrl-C meant for the clients must not stop the broker under them
        self.process = subprocess.Popen(
            [*self._java(), "kafka.Kafka", str(self.home / "server.properties")],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent)  # noqa: PLW1509 - prctl only, no locks taken
        out.close()

    def _java(self) -> list[str]:
        log4j = Path(self.classpath.removesuffix("/*")).parent / "log4j2.properties"
        return ["java", *_JVM, f"-Dlog4j2.configurationFile={log4j}", "-cp", self.classpath]

    def format(self, cluster_id: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            # "=": a base64 id may begin with "-", which the parser takes for an option
            [*self._java(), "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
             f"--config={self.home / 'server.properties'}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a controlled shutdown: leadership moves first), SIGKILL after
        ``timeout``."""
        if not self.running:
            return
        assert self.process is not None
        self.resume()  # a paused JVM cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def pause(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGCONT)

    def accepts(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port),
                                                                    0.2):
            return True
        return False


@dataclass
class KafkaCluster:
    """A running KRaft cluster; ``stop()`` ends every node and removes a temporary home."""

    nodes: list[KafkaNode]
    home: Path
    temporary: bool = False
    started_in: float = field(default=0.0)

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def describe(self) -> str:
        return (f"Apache Kafka {KAFKA_VERSION} (KRaft, {len(self.nodes)} "
                f"node{'s' if len(self.nodes) > 1 else ''})")

    def wait(self) -> None:
        """Until the first node ends (a node that dies ends the cluster's run)."""
        while all(node.running for node in self.nodes):
            time.sleep(0.5)

    def node(self, node_id: int) -> KafkaNode:
        return next(n for n in self.nodes if n.node_id == node_id)

    def stop(self) -> None:
        for node in self.nodes:
            node.resume()
            if node.running:
                assert node.process is not None
                node.process.terminate()
        for node in self.nodes:
            node.stop()
        if self.temporary:
            shutil.rmtree(self.home, ignore_errors=True)

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Every node accepts connections and the cluster's metadata lists all of them."""
        from kafka import KafkaAdminClient

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.process is not None and node.process.poll() is not None:
                    raise RuntimeError(f"Apache Kafka node {node.node_id} exited with code "
                                       f"{node.process.returncode}; see {node.log}")
            if all(node.accepts() for node in self.nodes):
                with contextlib.suppress(Exception):
                    admin = KafkaAdminClient(bootstrap_servers=self.url.split(","),
                                             request_timeout_ms=5000)
                    try:
                        brokers = admin.describe_cluster()["brokers"]
                    finally:
                        admin.close()
                    if len(brokers) == len(self.nodes):
                        return
            time.sleep(0.1)
        raise TimeoutError(f"Apache Kafka did not come up within {timeout:.0f} s; see the "
                           f"logs under {self.home}")


def node_properties(node: KafkaNode, voters: str, replicas: int) -> str:
    """A combined broker+controller. With three nodes: replication 3 and min ISR 2 for
    every topic, the internal ones included, so that a write survives one node lost."""
    min_isr = 2 if replicas >= 3 else 1
    return "\n".join([
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        f"controller.quorum.voters={voters}",
        f"listeners=PLAINTEXT://127.0.0.1:{node.port},"
        f"CONTROLLER://127.0.0.1:{node.controller_port}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={node.home / 'data'}",
        f"default.replication.factor={replicas}",
        f"min.insync.replicas={min_isr}",
        f"offsets.topic.replication.factor={replicas}",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
        f"share.coordinator.state.topic.replication.factor={replicas}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        # a consumer group forms as soon as its first member joins (tests, the demo)
        "group.initial.rebalance.delay.ms=0",
        # as a careful production cluster: churnwatch creates every topic it uses, and a
        # client that subscribes first must not create one with num.partitions (1)
        "auto.create.topics.enable=false",
        "",
    ])


def start_kafka(nodes: int = 1, *, port: int | None = None, home: Path | None = None,
                cache: Path | None = None, timeout: float = 90.0) -> KafkaCluster:
    """Format and start ``nodes`` KRaft nodes on free loopback ports (the first on ``port``
    when given) and wait until all of them serve. ``home`` keeps their folders; by default
    a temporary one, removed at ``stop()``."""
    began = time.monotonic()
    classpath = kafka_classpath(cache)
    temporary = home is None
    root = Path(tempfile.mkdtemp(prefix="churnwatch-kafka-")) if home is None else home
    ports = free_ports(2 * nodes, first=port)
    members = [KafkaNode(i + 1, ports[i], ports[nodes + i], root / f"node{i + 1}", classpath)
               for i in range(nodes)]
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in members)
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    for member in members:
        member.home.mkdir(parents=True, exist_ok=True)
        (member.home / "server.properties").write_text(node_properties(member, voters, nodes))
    formats = [member.format(cluster_id) for member in members]
    for member, formatting in zip(members, formats, strict=True):
        output, _ = formatting.communicate()
        if formatting.returncode:
            raise RuntimeError(f"formatting node {member.node_id} failed: "
                               f"{output.decode(errors='replace')[-1500:]}")
    cluster = KafkaCluster(members, root, temporary)
    try:
        for member in members:
            member.start()
        cluster.wait_ready(timeout)
    except BaseException:
        cluster.stop()
        raise
    cluster.started_in = time.monotonic() - began
    return cluster


@contextlib.contextmanager
def running_kafka(nodes: int = 1, *, home: Path | None = None) -> Iterator[KafkaCluster]:
    cluster = start_kafka(nodes, home=home)
    try:
        yield cluster
    finally:
        cluster.stop()
