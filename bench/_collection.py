"""Makes ``ansible_collections.wavedrain.kvm`` importable from the bench scripts: this checkout,
linked under build/collections as `make setup` links it, first on sys.path."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")


def on_path():
    link = os.path.join(COLLECTIONS, "ansible_collections", "wavedrain", "kvm")
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
