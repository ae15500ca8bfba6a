"""python -m cs_lib.datasets: download CIFAR-10 or generate the embedded offline dataset.

python -m cs_lib.datasets download cifar10     # fetch, verify (md5) and extract under the data folder
python -m cs_lib.datasets embedded             # generate the offline dataset (about a second)
python -m cs_lib.datasets info                 # which dataset the notebooks will use, and where
"""

import argparse
import sys
from pathlib import Path

from cs_lib.datasets import DatasetError, data_dir, dataset_folder, download_cifar10, embedded


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cs_lib.datasets", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="data folder (default: %(default)s → see info)")
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser("download", help="download a dataset (only cifar10)")
    download.add_argument("name", choices=["cifar10"])
    download.add_argument("--url", default=None, help="mirror URL of cifar-10-python.tar.gz")
    generate = commands.add_parser("embedded", help="generate the embedded offline dataset")
    generate.add_argument("--seed", type=int, default=0)
    commands.add_parser("info", help="say which dataset the notebooks use")
    args = parser.parse_args(argv)
    root = args.root or data_dir()
    try:
        if args.command == "download":
            kwargs = {"url": args.url} if args.url else {}
            folder = download_cifar10(root, **kwargs)
            print(f"CIFAR-10 is ready in {folder}")
        elif args.command == "embedded":
            folder = embedded.generate(root / "embedded", seed=args.seed)
            print(f"embedded dataset written to {folder} (fingerprint {embedded.fingerprint(folder)})")
        else:
            folder, source = dataset_folder()
            print(f"data folder: {root}\nnotebooks use: {source} from {folder}")
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
