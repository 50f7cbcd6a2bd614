"""The normalize stage: every supported service key into the typed model, and bad input."""

from __future__ import annotations

import pytest

from dockyard.compose.errors import ComposeError
from dockyard.compose.model import (
    Build,
    Condition,
    Dependency,
    Healthcheck,
    MountType,
    PullPolicy,
    Resources,
    RestartPolicy,
    ServiceFile,
    ServiceNetwork,
    Ulimit,
)

from .helpers import project, shell

FULL = """
services:
  web:
    image: busybox
    build:
      context: ./web
      dockerfile: Dockerfile.dev
      dockerfile_inline: FROM scratch
      args: [VERSION=1]
      target: prod
      labels: {a: b}
    command: httpd -f -p "8080"
    entrypoint: [/bin/sh, -c]
    environment: {A: 1, B: "x y", C: null, D: true}
    ports: ["8080:80"]
    expose: [3000, "4000"]
    volumes: ["data:/data", "./conf:/etc/conf:ro", "/anon"]
    networks:
      front:
        aliases: [www]
        ipv4_address: 172.20.0.5
    links: ["db:database"]
    depends_on:
      db:
        condition: service_healthy
        restart: true
      init:
        condition: service_completed_successfully
        required: false
    healthcheck:
      test: ["CMD", "wget", "-q", "localhost"]
      interval: 1m30s
      timeout: 10s
      retries: 3
      start_period: 40s
      start_interval: 5s
    restart: on-failure:3
    container_name: my-web
    x-note: container_name and fixed host ports allow one replica; see test_checks.py
    hostname: web.local
    user: "1000:1000"
    working_dir: /srv
    labels: [com.example.tier=front]
    extra_hosts: ["somehost=162.242.195.82", "otherhost:50.31.209.229", "v6=[::1]"]
    dns: 8.8.8.8
    init: true
    read_only: true
    tmpfs: /run
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    privileged: false
    security_opt: [no-new-privileges:true]
    ulimits:
      nproc: 65535
      nofile: {soft: 20000, hard: 40000}
    mem_limit: 512m
    cpus: 1.5
    pids_limit: 100
    deploy:
      replicas: 1
      resources:
        limits: {cpus: "0.50", memory: 50M, pids: 10}
        reservations: {memory: 20M}
    stop_signal: SIGUSR1
    stop_grace_period: 1m
    stdin_open: true
    tty: true
    pull_policy: if_not_present
    logging:
      driver: json-file
      options: {max-size: 10m, max-file: 3}
    secrets: [token, {source: cert, target: tls.pem, mode: 0400}]
    configs: [app]
  db:
    image: postgres
  init:
    image: busybox
networks:
  front: {}
volumes:
  data: {}
secrets:
  token: {file: ./token.txt}
  cert: {environment: CERT}
configs:
  app: {content: "hello"}
"""
FULL_ENV = shell(CERT="-----BEGIN CERTIFICATE-----")  # the `cert` secret's variable


def test_every_supported_key() -> None:
    web = project(FULL, env=FULL_ENV).services["web"]
    assert web.image == "busybox"
    assert web.build == Build(
        "/project/web", "Dockerfile.dev", "FROM scratch", {"VERSION": "1"}, "prod", {"a": "b"}
    )
    assert web.command == ("httpd", "-f", "-p", "8080")
    assert web.entrypoint == ("/bin/sh", "-c")
    assert dict(web.environment) == {"A": "1", "B": "x y", "D": "true"}
    assert [(p.target, str(p.published)) for p in web.ports] == [(80, "8080")]
    assert web.expose == ("3000", "4000")
    assert [(v.type, v.source, v.target, v.read_only) for v in web.volumes] == [
        (MountType.VOLUME, "data", "/data", False),
        (MountType.BIND, "/project/conf", "/etc/conf", True),
        (MountType.VOLUME, None, "/anon", False),
    ]
    assert web.networks == (ServiceNetwork("front", ("www",), "172.20.0.5"),)
    assert web.links == ("db:database",)
    assert web.depends_on == (
        Dependency("db", Condition.SERVICE_HEALTHY, restart=True),
        Dependency("init", Condition.SERVICE_COMPLETED_SUCCESSFULLY, required=False),
    )
    assert web.healthcheck == Healthcheck(
        ("CMD", "wget", "-q", "localhost"), 90.0, 10.0, 40.0, 5.0, 3
    )
    assert (web.restart, web.restart_max_retries) == (RestartPolicy.ON_FAILURE, 3)
    assert (web.container_name, web.hostname, web.user, web.working_dir) == (
        "my-web",
        "web.local",
        "1000:1000",
        "/srv",
    )
    assert dict(web.labels) == {"com.example.tier": "front"}
    assert web.extra_hosts == (
        "somehost:162.242.195.82",
        "otherhost:50.31.209.229",
        "v6:::1",
    )
    assert web.dns == ("8.8.8.8",)
    assert (web.init, web.read_only, web.privileged, web.tmpfs) == (True, True, False, ("/run",))
    assert (web.cap_add, web.cap_drop, web.security_opt) == (
        ("NET_ADMIN",),
        ("ALL",),
        ("no-new-privileges:true",),
    )
    assert web.ulimits == (Ulimit("nofile", 20000, 40000), Ulimit("nproc", 65535, 65535))
    assert (web.mem_limit, web.cpus, web.pids_limit) == (512 << 20, 1.5, 100)
    assert web.limits == Resources(0.5, 50 << 20, 10)
    assert web.reservations == Resources(memory=20 << 20)
    assert web.replicas == 1
    assert (web.stop_signal, web.stop_grace_period) == ("SIGUSR1", 60.0)
    assert (web.stdin_open, web.tty) == (True, True)
    assert web.pull_policy is PullPolicy.MISSING
    assert web.logging is not None
    assert dict(web.logging.options) == {"max-size": "10m", "max-file": "3"}
    assert web.secrets == (
        ServiceFile("token", "/run/secrets/token"),
        ServiceFile("cert", "/run/secrets/tls.pem", mode=0o400),
    )
    assert web.configs == (ServiceFile("app", "/app"),)


def test_defaults_and_project_resources() -> None:
    p = project(FULL, env=FULL_ENV)
    db = p.services["db"]
    assert db.networks == (ServiceNetwork("default"),)
    assert (db.restart, db.replicas, db.command, db.healthcheck) == (
        RestartPolicy.NO,
        1,
        None,
        None,
    )
    assert {k: n.name for k, n in p.networks.items()} == {
        "front": "test_front",
        "default": "test_default",
    }
    assert p.volumes["data"].name == "test_data"
    assert p.secrets["token"].file == "/project/token.txt"
    assert p.configs["app"].content == "hello"


def test_external_and_named_resources() -> None:
    p = project(
        "services:\n  a: {image: x, networks: [n1, n2, n3]}\n"
        "networks:\n  n1: {external: true}\n  n2: {name: custom}\n"
        "  n3: {external: {name: legacy}}\n"
    )
    assert [(n.name, n.external) for n in p.networks.values()] == [
        ("n1", True),
        ("custom", False),
        ("legacy", True),
    ]


def test_string_values_after_interpolation_are_coerced() -> None:
    web = project(
        "services:\n  web:\n    image: x\n    read_only: ${RO}\n    scale: ${N}\n"
        "    cpus: ${CPUS}\n",
        env=shell(RO="true", N="3", CPUS="0.25"),
    ).services["web"]
    assert (web.read_only, web.replicas, web.cpus) == (True, 3, 0.25)


def test_bare_environment_keys_come_from_the_project_environment() -> None:
    web = project(
        "services:\n  web:\n    image: x\n    environment: [FROM_SHELL, UNSET_ONE]\n",
        env=shell(FROM_SHELL="here"),
    ).services["web"]
    assert dict(web.environment) == {"FROM_SHELL": "here"}


def test_healthcheck_forms() -> None:
    p = project(
        "services:\n"
        "  a: {image: x, healthcheck: {test: curl -f localhost}}\n"
        "  b: {image: x, healthcheck: {disable: true}}\n"
        "  c: {image: x, healthcheck: {test: [NONE]}}\n"
    )
    assert p.services["a"].healthcheck == Healthcheck(("CMD-SHELL", "curl -f localhost"))
    assert p.services["b"].healthcheck == Healthcheck(("NONE",), disable=True)
    assert p.services["c"].healthcheck == Healthcheck(("NONE",), disable=True)


def test_profiles_select_services() -> None:
    text = (
        "services:\n  web: {image: x}\n  debug: {image: x, profiles: [debug]}\n"
        "  tools: {image: x, profiles: [tools, debug]}\n"
    )
    assert list(project(text).services) == ["web"]
    assert project(text).disabled_services == ("debug", "tools")
    assert list(project(text, profiles=("tools",)).services) == ["web", "tools"]
    assert list(project(text, profiles=("*",)).services) == ["web", "debug", "tools"]


def test_dependency_on_a_disabled_service() -> None:
    text = (
        "services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_started,"
        " required: %s}\n  db: {image: x, profiles: [db]}\n"
    )
    assert project(text % "false").services["web"].depends_on == ()
    with pytest.raises(ComposeError, match='depends on "db", which no active profile enables'):
        project(text % "true")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "services:\n  web:\n    image: x\n    ports:\n      - 99999:80\n",
            'file0.yaml:5: services.web.ports\\[0\\]: invalid port "99999:80": ports are 1-65535',
        ),
        (
            "services:\n  web:\n    image: x\n    restart: sometimes\n",
            'file0.yaml:4: services.web.restart: invalid restart policy "sometimes"',
        ),
        (
            "services:\n  web:\n    image: x\n    restart: always:3\n",
            "only on-failure takes a retry count",
        ),
        (
            "services:\n  web:\n    image: x\n    mem_limit: lots\n",
            'file0.yaml:4: services.web.mem_limit: invalid size "lots"',
        ),
        (
            "services:\n  web:\n    image: x\n    healthcheck:\n      interval: often\n",
            'file0.yaml:4: services.web.healthcheck: invalid duration "often"',
        ),
        (
            "services:\n  web:\n    image: x\n    scale: 2\n    deploy: {replicas: 3}\n",
            "scale \\(2\\) and deploy.replicas \\(3\\) differ",
        ),
        (
            "services:\n  web:\n    image: x\n    volumes: [data:/data]\n",
            'file0.yaml:4: services.web.volumes\\[0\\]: service "web" uses undefined volume "data"',
        ),
        (
            "services:\n  web:\n    image: x\n    networks: [back]\n",
            'file0.yaml:4: services.web.networks.back: service "web" uses undefined network',
        ),
        (
            "services:\n  web:\n    image: x\n    secrets: [s]\n",
            'uses undefined secret "s"',
        ),
        (
            "services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n",
            "network_mode and networks exclude each other",
        ),
        (
            "services:\n  web:\n    image: x\n    pull_policy: sometimes\n",
            'invalid pull_policy "sometimes"',
        ),
        (
            "services:\n  web:\n    image: x\n    ulimits:\n      nofile: {soft: 2, hard: 1}\n",
            "soft limit 2 exceeds hard limit 1",
        ),
        (
            "services:\n  web:\n    image: x\n    extra_hosts: [nohost]\n",
            'invalid extra_hosts entry "nohost"',
        ),
        (
            "services:\n  web:\n    image: x\nsecrets:\n  s: {file: a, content: b}\n",
            "secret s needs exactly one of file, environment or content",
        ),
    ],
)
def test_bad_values_name_file_line_and_path(text: str, message: str) -> None:
    with pytest.raises(ComposeError, match=message):
        project(text)


def test_invalid_port_message_is_exactly_as_documented() -> None:
    with pytest.raises(ComposeError) as caught:
        project("services:\n  web:\n    image: x\n    ports:\n      - 99999:80\n")
    assert str(caught.value).startswith(
        'file0.yaml:5: services.web.ports[0]: invalid port "99999:80"'
    )


def test_merged_files_report_the_file_that_wrote_the_bad_value() -> None:
    with pytest.raises(ComposeError, match=r"^file1\.yaml:6: services\.web\.ports\[1\]: "):
        project(
            "services:\n  web:\n    image: x\n    ports: ['80:80']\n",
            "services:\n  web:\n    ports:\n\n\n      - 70000:1\n",
        )
