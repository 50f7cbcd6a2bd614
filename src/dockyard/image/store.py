"""The image store: which images exist, their tags and repo digests (the state database), over
the content store (manifests, configs, layer blobs) and the layer store (unpacked layers).

Words: an image's *id* is its config digest (as Docker's); a *tag* is a normalised reference
name with a tag (`docker.io/library/busybox:latest`); a *repo digest* is `name@manifest-digest`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.image.content import ContentStore, Expected
from dockyard.image.digest import Digest
from dockyard.image.reference import Reference, parse_reference
from dockyard.oci.image_spec import (
    OCI_CONFIG,
    OCI_MANIFEST,
    Descriptor,
    ImageConfig,
    Manifest,
    digest_bytes,
    parse_image_config,
    parse_manifest,
)
from dockyard.state.db import StateDB


class _Sized(Protocol):
    @property
    def size(self) -> int: ...


class Layers(Protocol):
    """What the image store needs of unpacked layers (`dockyard.storage.layers.LayerStore`).

    A protocol, so that `image/` stays independent of `storage/` (DESIGN.md: siblings).
    """

    def exists(self, diff_id: str) -> bool: ...
    def get(self, diff_id: str) -> _Sized: ...
    def unpack(self, diff_id: str, source: IO[bytes]) -> object: ...
    def acquire(self, diff_id: str) -> int: ...
    def release(self, diff_id: str) -> int: ...


MIGRATIONS = [
    """
    CREATE TABLE images (
        id TEXT PRIMARY KEY,
        manifest_digest TEXT NOT NULL,
        manifest_media_type TEXT NOT NULL,
        diff_ids TEXT NOT NULL,
        size INTEGER NOT NULL,
        created TEXT NOT NULL,
        added REAL NOT NULL
    );
    CREATE TABLE image_tags (
        name TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
    );
    CREATE TABLE image_digests (
        name TEXT NOT NULL,
        digest TEXT NOT NULL,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        PRIMARY KEY (name, digest)
    );
    CREATE INDEX image_tags_by_image ON image_tags(image_id);
    """
]


@dataclass(frozen=True)
class ImageRecord:
    """One stored image."""

    id: str
    manifest_digest: str
    manifest_media_type: str
    diff_ids: tuple[str, ...]
    size: int
    created: str
    tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = field(default=())

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[1][:12]


def _tag_name(ref: Reference) -> str:
    return f"{ref.name}:{ref.tag or 'latest'}"


class ImageStore:
    """Images in one dockyard root."""

    def __init__(self, db: StateDB, content: ContentStore, layers: Layers) -> None:
        self.db = db
        self.content = content
        self.layers = layers
        db.migrate("image", MIGRATIONS)

    def scratch_dir(self) -> Path:
        """A directory for temporary files on the same file system as the store."""
        path = self.content.root.parent / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add(
        self,
        manifest: bytes,
        config: bytes,
        *,
        tags: tuple[str, ...] = (),
        repo_digest: str | None = None,
        media_type: str = OCI_MANIFEST,
    ) -> ImageRecord:
        """Record an image whose layers are unpacked; stores its manifest and config blobs."""
        parsed = parse_manifest(manifest, media_type)
        if "layers" not in parsed:
            raise InvalidArgument("an image index is not an image: select a platform first")
        cfg = parse_image_config(config)
        diff_ids = tuple(cfg["rootfs"]["diff_ids"])
        for diff_id in diff_ids:
            if not self.layers.exists(diff_id):
                raise NotFound(f"layer {diff_id} of the image is not unpacked")
        manifest_digest = digest_bytes(manifest)
        image_id = digest_bytes(config)
        self.content.ingest(Expected.of(manifest_digest, len(manifest)), [manifest])
        self.content.ingest(Expected.of(image_id, len(config)), [config])
        size = sum(self.layers.get(d).size for d in diff_ids)
        with self.db.transaction() as conn:
            existing = conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone()
            if existing is None:
                conn.execute(
                    "INSERT INTO images (id, manifest_digest, manifest_media_type, diff_ids,"
                    " size, created, added) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        image_id,
                        manifest_digest,
                        media_type,
                        json.dumps(diff_ids),
                        size,
                        cfg.get("created", ""),
                        time.time(),
                    ),
                )
                for diff_id in diff_ids:
                    self.layers.acquire(diff_id)
            for tag in tags:
                self._tag(conn, tag, image_id)
            if repo_digest:
                name = repo_digest.split("@", 1)[0]
                conn.execute(
                    "INSERT OR REPLACE INTO image_digests (name, digest, image_id) VALUES (?,?,?)",
                    (name, repo_digest.split("@", 1)[1], image_id),
                )
        return self.get(image_id)

    def _tag(self, conn: object, tag: str, image_id: str) -> None:
        import sqlite3

        assert isinstance(conn, sqlite3.Connection)
        name = _tag_name(parse_reference(tag))
        conn.execute(
            "INSERT INTO image_tags (name, image_id) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
            (name, image_id),
        )

    def tag(self, image: str, tag: str) -> None:
        """Point `tag` at the image `image` names (moving it from any other image)."""
        record = self.resolve(image)
        with self.db.transaction() as conn:
            self._tag(conn, tag, record.id)

    def untag(self, tag: str) -> str:
        """Remove one tag; returns the image id it pointed to."""
        name = _tag_name(parse_reference(tag))
        with self.db.transaction() as conn:
            row = conn.execute("SELECT image_id FROM image_tags WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise NotFound(f"no such image: {tag}")
            conn.execute("DELETE FROM image_tags WHERE name = ?", (name,))
            return str(row["image_id"])

    def get(self, image_id: str) -> ImageRecord:
        """The image with exactly this id."""
        rows = self.db.query("SELECT * FROM images WHERE id = ?", (image_id,))
        if not rows:
            raise NotFound(f"no such image: {image_id}")
        row = rows[0]
        tags = tuple(
            r["name"]
            for r in self.db.query(
                "SELECT name FROM image_tags WHERE image_id = ? ORDER BY name", (image_id,)
            )
        )
        digests = tuple(
            f"{r['name']}@{r['digest']}"
            for r in self.db.query(
                "SELECT name, digest FROM image_digests WHERE image_id = ? ORDER BY name",
                (image_id,),
            )
        )
        return ImageRecord(
            id=row["id"],
            manifest_digest=row["manifest_digest"],
            manifest_media_type=row["manifest_media_type"],
            diff_ids=tuple(json.loads(row["diff_ids"])),
            size=row["size"],
            created=row["created"],
            tags=tags,
            repo_digests=digests,
        )

    def resolve(self, text: str) -> ImageRecord:
        """An image by id, id prefix, `name[:tag]` or `name@digest`; `NotFound` names the text."""
        if not text:
            raise InvalidArgument("empty image reference")
        hexpart = text.removeprefix("sha256:")
        if len(hexpart) >= 4 and all(c in "0123456789abcdef" for c in hexpart):
            rows = self.db.query("SELECT id FROM images WHERE id LIKE ?", (f"sha256:{hexpart}%",))
            if len(rows) == 1:
                return self.get(rows[0]["id"])
            if len(rows) > 1:
                raise Conflict(f"image id prefix {text!r} is ambiguous: give more characters")
        try:
            ref = parse_reference(text)
        except InvalidArgument:
            raise NotFound(f"no such image: {text}") from None
        if ref.digest:
            rows = self.db.query(
                "SELECT image_id FROM image_digests WHERE name = ? AND digest = ?",
                (ref.name, ref.digest),
            )
            if not rows:
                rows = self.db.query(
                    "SELECT id AS image_id FROM images WHERE manifest_digest = ?", (ref.digest,)
                )
        else:
            rows = self.db.query(
                "SELECT image_id FROM image_tags WHERE name = ?", (_tag_name(ref),)
            )
        if not rows:
            raise NotFound(f"no such image: {text}")
        return self.get(rows[0]["image_id"])

    def list(self) -> list[ImageRecord]:
        """Every image, newest first."""
        rows = self.db.query("SELECT id FROM images ORDER BY added DESC")
        return [self.get(r["id"]) for r in rows]

    def config(self, record: ImageRecord) -> ImageConfig:
        """The image's parsed config."""
        return parse_image_config(self.content.read(Digest.parse(record.id)))

    def manifest(self, record: ImageRecord) -> Manifest:
        """The image's parsed manifest."""
        data = self.content.read(Digest.parse(record.manifest_digest))
        parsed = parse_manifest(data, record.manifest_media_type)
        assert "layers" in parsed
        return parsed  # type: ignore[return-value]

    def remove(self, image_id: str) -> None:
        """Forget the image (tags included) and release its layers; blobs are left to prune."""
        record = self.get(image_id)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
            for diff_id in record.diff_ids:
                self.layers.release(diff_id)


def make_manifest(config: bytes, layers: list[Descriptor]) -> bytes:
    """An OCI image manifest for a config blob and layer descriptors (canonical JSON)."""
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_bytes(config), "size": len(config)},
        "layers": layers,
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
