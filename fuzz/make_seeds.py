#!/usr/bin/env python3
"""Writes starting inputs for the fuzz targets into fuzz/corpus/<target>/.

The fuzzer cannot compute a signature, a key id or a Padme length on its
own, so a few well-formed inputs let it start past those checks. The keys
below are the public halves of the fixed keys the targets build from their
seeds. Uses only the standard library; /usr/bin/age, if installed, seals the
seeds that must be whole age files.

    python3 fuzz/make_seeds.py
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1_796_083_200
DAY = 24 * 60 * 60

# age_header.rs: Identity::from_bytes([0x42; 32]).
AGE_HEADER_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
# open_envelope.rs: the attorney ([0x02; 32]) and the colleague ([0x03; 32]).
ATTORNEY_RECIPIENT = "age1e6xn45wvkce7c7msc9upffw8dmxs9959q5xng369hgzcwrjc04vszex59m"
ATTORNEY_ID = "x25519:cfa570c653bd212b"
COLLEAGUE_RECIPIENT = "age1thld6wmt63lklg5wu9wed82mkr49xa6dfz9a47wlr3hqzf9nau3qqx6458"
COLLEAGUE_ID = "x25519:3d74359e38a88a42"
# Ed25519 public keys of SigningSecret::from_bytes(&[seed; 32]).
ED25519 = {
    1: "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w",
    4: "ypOsFwUYcHHWe4PH/w7+gQjo7EUwV113JoeTM9vavnw",
    5: "bnoc3Smwt4/ROvTFWY/v9O8qlxZuPKby5Pv8zYBQW/E",
    7: "6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw",
}

MAGIC = b"satchel-envelope-v1\n"


def canonical(value):
    """RFC 8785 form for the plain values used here (ASCII keys, no floats)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def padme(length):
    if length < 2:
        return length
    e = length.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def age_encrypt(recipients, payload):
    """The payload sealed by the stock age tool, or None without it."""
    age = shutil.which("age")
    if age is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        with open(src, "wb") as f:
            f.write(payload)
        args = [age]
        for recipient in recipients:
            args += ["-r", recipient]
        subprocess.run(args + ["-o", dst, src], check=True)
        with open(dst, "rb") as f:
            return f.read()


def write(target, name, data):
    if data is None:
        return
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def manifest(recipients, attachments):
    return {
        "format": "satchel-manifest-v1",
        "submission_id": "fuzz-0001",
        "interview": {"id": "eviction", "version": "3"},
        "sender": {"member_id": "m-worker", "device_id": "d-worker"},
        "recipients": recipients,
        "created_at": NOW,
        "classification": "sensitive",
        "answers": {"tenant": "Example", "household": [{"age": 9, "name": "Ana"}]},
        "attachments": [
            {
                "name": "part-%d.bin" % index,
                "media_type": "application/octet-stream",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for index, data in enumerate(attachments)
        ],
    }


def signed_manifest_input(selector, recipients, attachments):
    """open_envelope's second shape: u16 length, manifest, then attachment
    bytes and exactly the padding Padme asks for."""
    body = canonical(manifest(recipients, attachments))
    content = len(MAGIC) + 4 + len(body) + 64 + sum(len(a) for a in attachments)
    tail = b"".join(attachments) + bytes(padme(content) - content)
    return bytes([selector]) + len(body).to_bytes(2, "big") + body + tail


def age_header_seeds():
    write("age_header", "small", age_encrypt([AGE_HEADER_RECIPIENT], b"hello, world\n"))
    write(
        "age_header",
        "two-recipients",
        age_encrypt([AGE_HEADER_RECIPIENT, ATTORNEY_RECIPIENT], b"x"),
    )
    # Tamper inputs: [edit, pos_hi, pos_lo, repeat, read] then a piece.
    for edit in range(5):
        write("age_header", "tamper-%d" % edit, bytes([edit, 0x80, 0x10, 17, 200]) + b"abcd" * 250)


def open_envelope_seeds():
    one = [b"hello"]
    two = [b"first attachment", b""]
    write("open_envelope", "signed-one", signed_manifest_input(1, [ATTORNEY_ID], one))
    write("open_envelope", "signed-none", signed_manifest_input(1, [ATTORNEY_ID], []))
    # 0x82: the second shape, sealed to both keys.
    write(
        "open_envelope",
        "signed-two-recipients",
        signed_manifest_input(0x82, [ATTORNEY_ID, COLLEAGUE_ID], two),
    )
    answers = canonical({"name": "Ana \u00e9\u2028", "n": [0, -1, 9007199254740991]})
    write(
        "open_envelope",
        "round-trip",
        bytes([2, 3]) + len(answers).to_bytes(2, "big") + answers + b"attachment bytes",
    )
    inner = MAGIC + (2).to_bytes(4, "big") + b"{}" + bytes(64)
    write("open_envelope", "inner", bytes([0]) + inner)
    write("open_envelope", "whole-file", age_encrypt([ATTORNEY_RECIPIENT], inner))


def directory_body():
    def key(public, key_id):
        return {"id": key_id, "public": public, "not_before": NOW - DAY,
                "not_after": NOW + 365 * DAY}

    return {
        "format": "satchel-directory-v1",
        "org_id": "fuzz-org",
        "version": 7,
        "issued_at": NOW - DAY,
        "expires_at": NOW + 30 * DAY,
        "members": [
            {
                "id": "m-worker",
                "display_name": "Worker",
                "roles": ["intake"],
                "signing_key": ED25519[4],
                "devices": [{"id": "d-worker", "signing_key": ED25519[1], "label": "Laptop"}],
                "recipient_keys": [],
            },
            {
                "id": "m-attorney",
                "display_name": "Attorney",
                "roles": ["attorney"],
                "signing_key": ED25519[5],
                "devices": [],
                "recipient_keys": [key(ATTORNEY_RECIPIENT, ATTORNEY_ID)],
            },
        ],
        "teams": [{"id": "t-housing", "name": "Housing", "members": ["m-attorney"]}],
        "escrow": key(COLLEAGUE_RECIPIENT, COLLEAGUE_ID),
        "auditor": None,
        "policies": {
            "escrow_required": True,
            "idle_lock_minutes": 15,
            "totp_roles": ["attorney"],
            "expiry_grace_seconds": 7 * DAY,
            "retention_days_received": 365,
            "retention_days_drafts": 30,
        },
    }


def directory_seeds():
    body = canonical(directory_body())
    # Even length: signed by the root; odd length: by a delegated admin.
    write("directory", "body-root", body if len(body) % 2 == 0 else body + b" ")
    write("directory", "body-admin", body if len(body) % 2 == 1 else body + b" ")
    published = {
        "body": directory_body(),
        "signer": ED25519[7],
        "delegation": None,
        "signature": "A" * 86,
    }
    write("directory", "published", json.dumps(published, indent=2).encode())


def interview_seeds():
    """The sample interviews, and the small definition of the format doc."""
    samples = os.path.join(HERE, "..", "interviews")
    for name in sorted(os.listdir(samples)):
        if name.endswith(".yaml"):
            with open(os.path.join(samples, name), "rb") as f:
                write("interview", name, f.read())


if __name__ == "__main__":
    age_header_seeds()
    open_envelope_seeds()
    directory_seeds()
    interview_seeds()
    print("seeds written under", os.path.join(HERE, "corpus"))
