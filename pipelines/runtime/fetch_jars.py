"""Fetches the connector jars of the pipeline image, each checked against its SHA-256.

Usage: fetch_jars.py <jars.lock.tsv> <repository URL> <target folder>

The lock file is the one list the local engines use too (pipelines/runtime/jars.lock.tsv): every line
`spark<TAB>group:artifact:version<TAB>sha256` is one jar of the image. A jar whose checksum differs, a failed
download or an empty list stops the build with the jar named; nothing half-written stays in the target.
"""

import hashlib
import os
import sys
import urllib.request


def repository_path(coordinate: str) -> str:
    parts = coordinate.split(":")
    if len(parts) not in (3, 4):
        raise ValueError(f"'{coordinate}' is not group:artifact:version[:classifier]")
    group, artifact, version = parts[:3]
    classifier = f"-{parts[3]}" if len(parts) == 4 else ""
    return f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}{classifier}.jar"


def locked_jars(lock_file: str) -> list[tuple[str, str]]:
    jars = []
    with open(lock_file, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 3 or len(fields[2]) != 64:
                raise ValueError(f"{lock_file} line {number}: expected set, coordinate and sha256 separated by tabs")
            if fields[0] == "spark":
                jars.append((fields[1], fields[2]))
    if not jars:
        raise ValueError(f"{lock_file} lists no jar of the set 'spark'")
    return jars


def fetch(coordinate: str, sha256: str, repository: str, target: str) -> None:
    url = f"{repository.rstrip('/')}/{repository_path(coordinate)}"
    destination = os.path.join(target, os.path.basename(repository_path(coordinate)))
    partial = f"{destination}.partial"
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=300) as response, open(partial, "wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        os.remove(partial)
        raise ValueError(f"{coordinate} from {url} has sha256 {digest.hexdigest()}, the lock file says {sha256}")
    os.replace(partial, destination)


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    lock_file, repository, target = argv[1:]
    try:
        jars = locked_jars(lock_file)
        os.makedirs(target, exist_ok=True)
        for coordinate, sha256 in jars:
            fetch(coordinate, sha256, repository, target)
            print(f"fetched {coordinate}")
    except Exception as error:  # one line, naming the jar: this runs in an image build log
        print(f"fetch_jars: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
