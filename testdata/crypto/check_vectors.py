#!/usr/bin/env python3
"""Independent check of vectors.json against docs/protocol.md, Part I, and
of rendezvous.json against Part III and of collection.json against §13.

A second implementation written from the specification only: BLAKE3 from the
`b3sum` program (derive_key mode for Part III), Ed25519 and XChaCha20-Poly1305 from HChaCha20 (below) and the IETF
ChaCha20-Poly1305 of python3-cryptography, SHA3 from hashlib. Run:

    python3 testdata/crypto/check_vectors.py
"""
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def H(data: bytes) -> bytes:
    out = subprocess.run(["b3sum", "--no-names", "--raw"], input=data, capture_output=True, check=True).stdout
    return out[:32]


def derive_key(context: str, material: bytes) -> bytes:
    out = subprocess.run(["b3sum", "--no-names", "--raw", "--derive-key", context], input=material, capture_output=True, check=True).stdout
    return out[:32]


def rotl(v, c):
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))

    def qr(a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha_open(key, nonce24, ct, ad=b""):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).decrypt(b"\0\0\0\0" + nonce24[16:], ct, ad or None)


def nonce(domain, index):
    return bytes([domain]) + bytes(15) + struct.pack(">Q", index)


def b32(data: bytes) -> str:
    return base64.b32encode(data).decode().lower().rstrip("=")


def unb32(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def check(v):
    size, cs = v["size"], v["chunk_size"]
    data = bytes((i * 31 + 7) % 251 for i in range(size))
    key = bytes.fromhex(v["key"])
    desc = bytes.fromhex(v["descriptor"])
    # 6. descriptor and content ID
    assert desc[0] == 1
    assert struct.unpack(">I", desc[1:5])[0] == cs and struct.unpack(">Q", desc[5:13])[0] == size
    root = desc[13:45]
    hl = struct.unpack(">H", desc[45:47])[0]
    sealed = desc[47:]
    assert hl == len(sealed) == len(bytes.fromhex(v["sealed_header"])) and (hl - 16) % 256 == 0
    cid = H(b"\x02" + desc)
    assert cid.hex() == v["content_id_hex"], "content id"
    assert b32(cid + H(b"\x04" + cid)[:3]) == v["content_id"], "content id text"
    # 5. header
    ad = desc[:45]
    hdr = xchacha_open(key, nonce(1, 0), sealed, ad)
    assert hdr[0] == 1 and struct.unpack(">Q", hdr[1:9])[0] == size and struct.unpack(">I", hdr[9:13])[0] == cs
    assert struct.unpack(">q", hdr[13:21])[0] == v["created_unix"]
    nl = struct.unpack(">H", hdr[21:23])[0]
    assert hdr[23:23 + nl].decode() == v["file_name"], "name"
    ml = hdr[23 + nl]
    assert hdr[24 + nl:24 + nl + ml].decode() == v["media_type"], "media type"
    assert set(hdr[24 + nl + ml:]) <= {0} and len(hdr) % 256 == 0
    # 3. chunk encryption, 4. tree and proof
    n = max(1, -(-size // cs))
    i = v["proof_index"]
    ct = bytes.fromhex(v["chunk_ciphertext"])
    assert xchacha_open(key, nonce(0, i), ct) == data[i * cs:(i + 1) * cs], "chunk plaintext"
    leaf = H(b"\x00" + ct)
    assert leaf.hex() == v["leaf"]
    proof = bytes.fromhex(v["proof"])
    sibs = [proof[1 + 32 * k:33 + 32 * k] for k in range(proof[0])]
    assert len(proof) == 1 + 32 * proof[0]
    sizes = [n]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    h, k = leaf, 0
    for lvl in range(len(sizes) - 1):
        j = i >> lvl
        if (j ^ 1) < sizes[lvl]:
            h = H(b"\x01" + (h + sibs[k] if j % 2 == 0 else sibs[k] + h))
            k += 1
    assert k == len(sibs) and h == root, "proof"
    # Full tree from all chunks, re-encrypted from the data with the key.
    level = []
    for c in range(n):
        plain = data[c * cs:(c + 1) * cs]
        sub = hchacha20(key, nonce(0, c)[:16])
        level.append(H(b"\x00" + ChaCha20Poly1305(sub).encrypt(b"\0\0\0\0" + nonce(0, c)[16:], plain, None)))
    while len(level) > 1:
        level = [H(b"\x01" + level[j] + level[j + 1]) if j + 1 < len(level) else level[j] for j in range(0, len(level), 2)]
    assert level[0] == root, "root from re-sealing"
    # 8. link
    assert v["link"].startswith("hydre:")
    raw = unb32(v["link"][6:])
    body, chk = raw[:-4], raw[-4:]
    assert H(b"\x03" + body)[:4] == chk, "link checksum"
    secret = bytes.fromhex(v["swarm_secret"])
    assert body[0] == 2 and body[1] == 0b101 and body[2:34] == cid, "link version, flags, id"
    assert body[34:66] == secret and body[66:98] == key and body[98] == 1, "link secret, key, peer count"
    pub, port = body[99:131], struct.unpack(">H", body[131:133])[0]
    onion = b32(pub + hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2] + b"\x03")
    assert f"{onion}.onion:{port}" == v["link_peer"], "peer hint"


def check_collection(v):
    """A collection (§13): the manifest from the file list, the format-2
    header, and the root re-sealed from manifest || padding || files."""
    cs = v["chunk_size"]
    files = v["files"]
    paths = [f["path"] for f in files]
    assert paths == sorted(paths, key=lambda p: p.encode()), "canonical order"
    for p in paths:
        parts = p.split("/")
        assert p and not p.startswith("/") and all(x not in ("", ".", "..") for x in parts), "path rules"
    manifest = b"HYDC\x01" + struct.pack(">I", len(files))
    for f in files:
        enc = f["path"].encode()
        manifest += struct.pack(">QH", f["size"], len(enc)) + enc
    assert manifest.hex() == v["manifest"], "manifest"
    region = -(-len(manifest) // cs) * cs
    plain = manifest + bytes(region - len(manifest))
    for k, f in enumerate(files):
        plain += bytes((i * 31 + 7 + k) % 251 for i in range(f["size"]))
    size = len(plain)
    assert size == v["size"], "size"
    key = bytes.fromhex(v["key"])
    desc = bytes.fromhex(v["descriptor"])
    assert desc[0] == 1 and struct.unpack(">I", desc[1:5])[0] == cs and struct.unpack(">Q", desc[5:13])[0] == size
    root = desc[13:45]
    assert H(b"\x02" + desc).hex() == v["content_id_hex"], "content id"
    hdr = xchacha_open(key, nonce(1, 0), desc[47:], desc[:45])
    assert hdr[0] == 2 and struct.unpack(">Q", hdr[1:9])[0] == size and struct.unpack(">I", hdr[9:13])[0] == cs
    assert struct.unpack(">q", hdr[13:21])[0] == v["created_unix"]
    nl = struct.unpack(">H", hdr[21:23])[0]
    assert hdr[23:23 + nl].decode() == v["collection_name"], "name"
    ml = hdr[23 + nl]
    at = 24 + nl + ml
    assert struct.unpack(">I", hdr[at:at + 4])[0] == len(manifest), "manifest length"
    assert set(hdr[at + 4:]) <= {0} and len(hdr) % 256 == 0
    level = []
    for c in range(-(-size // cs)):
        sub = hchacha20(key, nonce(0, c)[:16])
        level.append(H(b"\x00" + ChaCha20Poly1305(sub).encrypt(b"\0\0\0\0" + nonce(0, c)[16:], plain[c * cs:(c + 1) * cs], None)))
    while len(level) > 1:
        level = [H(b"\x01" + level[j] + level[j + 1]) if j + 1 < len(level) else level[j] for j in range(0, len(level), 2)]
    assert level[0] == root, "root from re-sealing"


def onion_name(pub: bytes) -> str:
    return b32(pub + hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2] + b"\x03")


def check_rendezvous(rv):
    secret, cid = bytes.fromhex(rv["swarm_secret"]), bytes.fromhex(rv["content_id_hex"])
    tag = derive_key("hydre swarm tag v1", secret)
    assert tag.hex() == rv["swarm_tag"], "swarm tag"
    # Slots: every period meeting [at - margin, at + margin], three slots each.
    for sv in rv["schedules"]:
        length, offset = (sv["length_s"], sv["offset_s"]) if sv["length_s"] else (86400, 43200)
        period = lambda t: max(0, t - offset) // length
        want = [(p, i) for p in range(period(sv["at_unix"] - sv["margin_s"]), period(sv["at_unix"] + sv["margin_s"]) + 1) for i in range(3)]
        assert [(s["period"], s["index"]) for s in sv["slots"]] == want, "slot list"
        for s in sv["slots"]:
            seed = derive_key("hydre rendezvous slot v1", secret + struct.pack(">QQQB", length, offset, s["period"], s["index"]))
            assert seed.hex() == s["seed"], "slot seed"
            pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            assert pub.hex() == s["public_key"] and onion_name(pub) == s["onion"], "slot key"
    # Holder records, Register, Answer.
    records = b""
    for r in rv["records"]:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(r["holder_seed"]))
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        body = pub + struct.pack(">HQ", r["port"], r["expires_unix"])
        msg = b"hydre holder record" + cid + tag + body
        assert msg.hex() == r["signed_message"], "signed message"
        sig = key.sign(msg)
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
        assert (body + sig).hex() == r["record"], "record"
        assert (b"\x01\x01" + body + sig).hex() == r["register"], "register"
        records += body + sig
    assert (b"\x01\x03" + bytes([len(rv["records"])]) + records).hex() == rv["answer"], "answer"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    vectors = json.load(open(os.path.join(here, "vectors.json")))["vectors"]
    for v in vectors:
        check(v)
        print("ok", v["name"])
    check_rendezvous(json.load(open(os.path.join(here, "rendezvous.json"))))
    print("ok rendezvous")
    for v in json.load(open(os.path.join(here, "collection.json")))["vectors"]:
        check_collection(v)
        print("ok collection:", v["name"])


if __name__ == "__main__":
    sys.exit(main())
