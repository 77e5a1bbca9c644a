#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_image_tar: small `docker save` tarballs
as Docker writes them (manifest.json, the image config, one tar per
layer), in the shapes the readers must handle: the old layout
(<id>/layer.tar), the OCI layout (blobs/sha256/<digest>) with a gzip
layer, GNU long names and base-256 sizes, pax paths, a whiteout, a setuid
file, a secret in a layer and in the config's Env. Deterministic output.

    python3 tests/fuzz/gen_image_seeds.py tests/fuzz/corpus/fuzz_image_tar
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

TOKEN = "ghp_Zq3VbT9mKp2LxR7cNw4YhJ8sDf6GuA1eBo5W"  # random, nobody's


def member(tf, name, data=b"", mode=0o644, kind=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name)
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.mode = mode
    ti.type = kind
    ti.mtime = 1700000000
    if kind == tarfile.SYMTYPE:
        ti.linkname = "/etc/shadow"
    tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_bytes(files, fmt=tarfile.USTAR_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for f in files:
            member(tf, *f)
    return buf.getvalue()


def config(env):
    return json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "", "Env": env, "Cmd": ["/bin/sh"],
                   "Healthcheck": {"Test": ["CMD", "true"]}},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created_by": "/bin/sh -c #(nop) ADD file"}],
    }).encode()


def image(layers, env, oci=False, fmt=tarfile.USTAR_FORMAT, gz=False):
    cfg = config(env)
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    files, names = [], []
    for i, layer in enumerate(layers):
        blob = tar_bytes(layer, fmt)
        if gz:
            blob = gzip.compress(blob, mtime=0)
        digest = hashlib.sha256(blob).hexdigest()
        name = "blobs/sha256/" + digest if oci else "%064x/layer.tar" % (i + 1)
        names.append(name)
        files.append((name, blob))
    if oci:
        cfg_name = "blobs/sha256/" + hashlib.sha256(cfg).hexdigest()
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["seed:latest"],
                            "Layers": names}]).encode()
    outer = [("manifest.json", manifest), (cfg_name, cfg)] + files
    if oci:
        outer.append(("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'))
    return tar_bytes(outer, fmt)


def main(out):
    os.makedirs(out, exist_ok=True)
    base = [("bin/", b"", 0o755, tarfile.DIRTYPE), ("bin/sh", b"\x7fELF" + b"\0" * 60, 0o755),
            ("usr/bin/su", b"\x7fELF", 0o4755), ("etc/app.conf", b"password = hunter2hunter2\n")]
    secret = [("app/.env", ("GITHUB_TOKEN=%s\n" % TOKEN).encode()),
              ("app/.wh.old.key", b""), ("etc/link", b"", 0o777, tarfile.SYMTYPE)]
    seeds = {
        "docker_save_old": image([base, secret], ["PATH=/bin"]),
        "docker_save_env": image([base], ["API_TOKEN=" + TOKEN]),
        "oci_gzip": image([base, secret], ["PATH=/bin"], oci=True, gz=True),
        "gnu_longname": image([[("a/" + "x" * 150 + "/secret.txt", TOKEN.encode())]], [],
                              fmt=tarfile.GNU_FORMAT),
        "pax_path": image([[("p/" + "y" * 120 + "/id_rsa", b"-----BEGIN RSA PRIVATE KEY-----\n")]],
                          [], fmt=tarfile.PAX_FORMAT),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
