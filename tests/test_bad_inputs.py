"""The bad-input corpus: every command, every option that takes a value or a path, given what
people get wrong. Each case must end with exit status 2 and one line on stderr,
``korean-gan: error: ...``, naming the option or file and the value, with no traceback; no file
may appear at the output path, and an output that was there before keeps its bytes.

Cases run in-process through ``korean_gan.cli.main``; most fail before TensorFlow loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from korean_gan.cli import main

PRECIOUS = b"an earlier output that must survive a failed run"


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    """A folder of bad inputs, shared by the cases (none of them writes here)."""
    root = tmp_path_factory.mktemp("bad")
    (root / "folder").mkdir()
    (root / "folder" / "something.txt").write_text("not a line set or dataset")
    (root / "latin1.txt").write_bytes("가나".encode() + b"\xff\xfe")
    (root / "empty.txt").write_text("")
    (root / "blank.txt").write_text(" \n\n ")
    (root / "long.txt").write_text("가" * 201 + "\n", encoding="utf-8")
    (root / "latin.txt").write_text("abc\n", encoding="utf-8")
    (root / "jamo.txt").write_text("ㄱㄴ\n", encoding="utf-8")
    (root / "notjson.json").write_text("{not json")
    (root / "list.json").write_text("[1, 2]")
    (root / "augment.json").write_text(json.dumps({"rotation": 500}))
    (root / "fake.ttf").write_text("this is not a font")
    (root / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "text.npz").write_text("hello")
    (root / "photo.jpg").write_text("not a photo")
    (root / "afile").write_text("a plain file where a folder goes")
    (root / "license.bin").write_bytes(b"\xff\xfe\x00")
    (root / "layout.json").write_text(json.dumps({"page": "A4"}))
    import numpy as np

    np.savez(root / "samples.npz", images=np.full((4, 32, 32), 255, np.uint8))
    np.savez(root / "labels.npz", labels=np.zeros(4, np.int32))
    return root


# (case id, argv with {d} for the bad-input folder and {o} for the output folder,
#  the output path that must not change, a fragment of the message)
CASES = [
    # --- data build ---
    ("build-charset-missing", "data build --charset {d}/nope.txt --out {o}/k.npz",
     "k.npz", "charset file {d}/nope.txt does not exist"),
    ("build-charset-latin", "data build --charset abc --out {o}/k.npz", "k.npz",
     "unknown charset 'abc'"),
    ("build-charset-jamo", "data build --charset {d}/jamo.txt --out {o}/k.npz", "k.npz",
     "is not a precomposed Hangul syllable"),
    ("build-charset-latin1", "data build --charset {d}/latin1.txt --out {o}/k.npz", "k.npz",
     "is not UTF-8"),
    ("build-charset-empty", "data build --charset {d}/empty.txt --out {o}/k.npz", "k.npz",
     "empty"),
    ("build-copies-negative", "data build --copies -1 --out {o}/k.npz", "k.npz",
     "argument --copies: must be from 0 to 1,000, got -1"),
    ("build-copies-huge", "data build --copies 1000000000 --out {o}/k.npz", "k.npz",
     "argument --copies: must be from 0 to 1,000"),
    ("build-copies-text", "data build --copies many --out {o}/k.npz", "k.npz",
     "argument --copies: give a whole number from 0 to 1,000, got 'many'"),
    ("build-size-huge", "data build --size 10000 --out {o}/k.npz", "k.npz",
     "argument --size: must be from 8 to 512, got 10,000"),
    ("build-size-zero", "data build --size 0 --out {o}/k.npz", "k.npz",
     "argument --size: must be from 8 to 512, got 0"),
    ("build-seed-negative", "data build --seed -5 --out {o}/k.npz", "k.npz",
     "argument --seed: must be from 0 to 4,294,967,295, got -5"),
    ("build-workers", "data build --workers 1000 --out {o}/k.npz", "k.npz",
     "argument --workers: must be from 0 to 64"),
    ("build-placement", "data build --placement middle --out {o}/k.npz", "k.npz",
     "argument --placement: invalid choice: 'middle'"),
    ("build-format", "data build --format zip --out {o}/k.npz", "k.npz",
     "argument --format: invalid choice: 'zip'"),
    ("build-augment", "data build --augment sideways --out {o}/k.npz", "k.npz",
     "sideways"),
    ("build-fonts-missing", "data build --fonts {d}/nope.ttf --out {o}/k.npz", "k.npz",
     "{d}/nope.ttf"),
    ("build-fonts-fake", "data build --fonts {d}/fake.ttf --out {o}/k.npz", "k.npz",
     "no usable font"),
    ("build-font-dir-file", "data build --font-dir {d}/fake.ttf --out {o}/k.npz", "k.npz",
     "fake.ttf"),
    ("build-font-dir-empty", "data build --font-dir {d}/folder --out {o}/k.npz", "k.npz",
     "holds no .ttf"),
    ("build-out-folder", "data build --charset 가나 --out {d}/folder", None,
     "output {d}/folder is a folder; give a file name"),
    ("build-imagefolder-file", "data build --charset 가나 --format imagefolder --out "
     "{d}/afile", None, "is a file; imagefolder needs a folder"),
    ("build-imagefolder-foreign", "data build --charset 가나 --format imagefolder --out "
     "{d}/folder", None, "is not empty and not an earlier build"),
    ("build-extra-missing", "data build --charset 가나 --extra {d}/nope.npz --out {o}/k.npz",
     "k.npz", "nope.npz"),
    ("build-extra-junk", "data build --charset 가나 --extra {d}/junk.npz --out {o}/k.npz",
     "k.npz", "junk.npz"),
    ("build-memory", "data build --charset all11172 --augment affine --copies 1000 --size 512 "
     "--out {o}/k.npz", "k.npz", "of memory; this machine has"),
    ("build-out-under-file", "data build --charset 가나 --out {d}/afile/x.npz", None,
     "is a file, not a folder"),
    # --- data info ---
    ("info-missing", "data info {d}/nope.npz", None, "{d}/nope.npz does not exist"),
    ("info-junk", "data info {d}/junk.npz", None,
     "junk.npz cannot be read (it is not an .npz (zip) archive, or it is damaged)"),
    ("info-text", "data info {d}/text.npz", None,
     "text.npz cannot be read (it holds pickled Python objects, which korean-gan never "
     "loads)"),
    # --- train ---
    ("train-preset", "train --preset giant --run-dir {o}/run", "run", "giant"),
    ("train-data-missing", "train --data {d}/nope.npz --run-dir {o}/run", "run",
     "dataset {d}/nope.npz does not exist"),
    ("train-data-junk", "train --data {d}/junk.npz --run-dir {o}/run", "run", "junk.npz"),
    ("train-epochs-zero", "train --epochs 0 --run-dir {o}/run", "run",
     "argument --epochs: must be from 1 to 100,000, got 0"),
    ("train-epochs-text", "train --epochs ten --run-dir {o}/run", "run",
     "argument --epochs: give a whole number"),
    ("train-batch", "train --batch-size 0 --run-dir {o}/run", "run",
     "argument --batch-size: must be from 1 to 65,536"),
    ("train-glr-negative", "train --g-lr -0.1 --run-dir {o}/run", "run",
     "argument --g-lr: must be from 1e-08 to 1, got -0.1"),
    ("train-dlr-nan", "train --d-lr nan --run-dir {o}/run", "run",
     "argument --d-lr: must be from 1e-08 to 1, got nan"),
    ("train-dlr-text", "train --d-lr fast --run-dir {o}/run", "run",
     "argument --d-lr: give a number from 1e-08 to 1, got 'fast'"),
    ("train-decay", "train --lr-decay-epochs -1 --run-dir {o}/run", "run",
     "argument --lr-decay-epochs: must be from 0"),
    ("train-gfilters", "train --g-filters 0 --run-dir {o}/run", "run",
     "argument --g-filters: must be from 1 to 4,096"),
    ("train-dfilters", "train --d-filters 100000 --run-dir {o}/run", "run",
     "argument --d-filters: must be from 1 to 4,096"),
    ("train-content", "train --content-weight -1 --run-dir {o}/run", "run",
     "argument --content-weight: must be from 0 to 1000"),
    ("train-recognizer", "train --recognizer-epochs -3 --run-dir {o}/run", "run",
     "argument --recognizer-epochs: must be from 0"),
    ("train-warmup", "train --recognizer-warmup inf --run-dir {o}/run", "run",
     "argument --recognizer-warmup: must be from 0"),
    ("train-seed", "train --seed -1 --run-dir {o}/run", "run", "argument --seed: must be"),
    ("train-checkpoint", "train --checkpoint-every 0 --run-dir {o}/run", "run",
     "argument --checkpoint-every: must be from 1"),
    ("train-snapshot", "train --snapshot-every -1 --run-dir {o}/run", "run",
     "argument --snapshot-every: must be from 0"),
    ("train-eval", "train --eval-every 100001 --run-dir {o}/run", "run",
     "argument --eval-every: must be from 0 to 100,000"),
    ("train-repeat", "train --repeat-font Gaegu --run-dir {o}/run", "run", "Gaegu"),
    ("train-rundir-file", "train --run-dir {d}/afile", None, "afile"),
    ("train-repeat-count", "train --repeat-font Gaegu=0 --run-dir {o}/run", "run", "Gaegu"),
    # --- sample ---
    ("sample-n-zero", "sample --run-dir {d}/folder --n 0 --out {o}/k.png", "k.png",
     "argument --n: must be from 1 to 100,000, got 0"),
    ("sample-n-huge", "sample --run-dir {d}/folder --n 1000000000000 --out {o}/k.png",
     "k.png", "argument --n: must be from 1 to 100,000"),
    ("sample-seed", "sample --run-dir {d}/folder --seed x --out {o}/k.png", "k.png",
     "argument --seed: give a whole number"),
    ("sample-rundir-missing", "sample --run-dir {d}/nope --out {o}/k.png", "k.png", "nope"),
    ("sample-rundir-notrun", "sample --run-dir {d}/folder --out {o}/k.png", "k.png",
     "holds no config.json"),
    ("sample-weights-missing", "sample --weights {d}/nope.weights.h5 --out {o}/k.png",
     "k.png", "weights file {d}/nope.weights.h5 does not exist"),
    ("sample-weights-fake", "sample --weights {d}/fake.ttf --out {o}/k.png", "k.png",
     "fake.ttf"),
    ("sample-both", "sample --run-dir {d}/folder --weights {d}/fake.ttf --out {o}/k.png",
     "k.png", "not allowed with argument"),
    ("sample-neither", "sample --out {o}/k.png", "k.png", "one of the arguments"),
    # --- gif ---
    ("gif-rundir-missing", "gif --run-dir {d}/nope --out {o}/k.gif", "k.gif",
     "run folder {d}/nope does not exist"),
    ("gif-no-frames", "gif --run-dir {d}/folder --out {o}/k.gif", "k.gif", "folder"),
    ("gif-seconds", "gif --run-dir {d}/folder --frame-seconds 0 --out {o}/k.gif", "k.gif",
     "argument --frame-seconds: must be from 0.01 to 60, got 0"),
    ("gif-frames", "gif --run-dir {d}/folder --max-frames 0 --out {o}/k.gif", "k.gif",
     "argument --max-frames: must be from 1"),
    ("gif-width", "gif --run-dir {d}/folder --width 100000 --out {o}/k.gif", "k.gif",
     "argument --width: must be from 16 to 4,096"),
    # --- distill ---
    ("distill-steps", "distill --steps 0 --out {o}/model", "model",
     "argument --steps: must be from 1"),
    ("distill-seed", "distill --seed -1 --out {o}/model", "model", "argument --seed"),
    ("distill-filters", "distill --filters 128,x,16 --out {o}/model", "model", "filters"),
    ("distill-model", "distill --model {d}/folder --out {o}/model", "model", "folder"),
    # --- train-upsampler ---
    ("up-epochs", "train-upsampler --epochs 0 --out {o}/up", "up",
     "argument --epochs: must be from 1 to 10,000"),
    ("up-filters", "train-upsampler --filters 0 --out {o}/up", "up",
     "argument --filters: must be from 1 to 1,024"),
    ("up-blocks", "train-upsampler --blocks 100 --out {o}/up", "up",
     "argument --blocks: must be from 1 to 64"),
    ("up-small-missing", "train-upsampler --small {d}/nope.npz --out {o}/up", "up",
     "nope.npz"),
    # --- write ---
    ("write-scale-huge", "write 가 --scale 100000 --out {o}/k.png", "k.png",
     "argument --scale: must be from 1 to 16, got 100,000"),
    ("write-scale-zero", "write 가 --scale 0 --out {o}/k.png", "k.png",
     "argument --scale: must be from 1 to 16, got 0"),
    ("write-size", "write 가 --size 100 --out {o}/k.png", "k.png",
     "size 100 is not supported; choose one of 32, 64, 128"),
    ("write-size-text", "write 가 --size big --out {o}/k.png", "k.png",
     "argument --size: invalid int value: 'big'"),
    ("write-seed", "write 가 --seed -1 --out {o}/k.png", "k.png", "argument --seed"),
    ("write-suffix", "write 가 --out {o}/k.jpg", "k.jpg", "give a .png file name"),
    ("write-no-text", "write --out {o}/k.png", "k.png", "give the text to write"),
    ("write-both", "write 가 --text-file {d}/empty.txt --out {o}/k.png", "k.png",
     "give the text or --text-file, not both"),
    ("write-textfile-missing", "write --text-file {d}/nope.txt --out {o}/k.png", "k.png",
     "--text-file {d}/nope.txt: no such file"),
    ("write-textfile-latin1", "write --text-file {d}/latin1.txt --out {o}/k.png", "k.png",
     "not UTF-8 text"),
    ("write-textfile-empty", "write --text-file {d}/empty.txt --out {o}/k.png", "k.png",
     "the text to write is empty"),
    ("write-textfile-folder", "write --text-file {d}/folder --out {o}/k.png", "k.png",
     "is a folder"),
    ("write-blank", "write '   ' --out {o}/k.png", "k.png", "the text to write is empty"),
    ("write-out-folder", "write 가 --out {d}/folder", None, "give a .png file name"),
    ("write-out-folder-png", "write 가 --size 32 --out {d}/folder/../folder", None,
     "give a .png file name"),
    ("write-style", "write 가 --size 32 --style NoSuchFont --out {o}/k.png", "k.png",
     "unknown style 'NoSuchFont'"),
    ("write-style-number", "write 가 --size 32 --style 99 --out {o}/k.png", "k.png",
     "style 99 does not exist"),
    ("write-style-file", "write 가 --size 32 --style {d}/junk.npz --out {o}/k.png", "k.png",
     "junk.npz"),
    ("write-char", "write 가中 --size 32 --out {o}/k.png", "k.png",
     "no font can draw '中' (U+4E2D)"),
    ("write-latin-from", "write 가A --size 32 --latin-from {d}/fake.ttf --out {o}/k.png",
     "k.png", "fake.ttf"),
    ("write-model", "write 가 --model {d}/folder --out {o}/k.png", "k.png",
     "holds no config.json"),
    ("write-model-missing", "write 가 --model nosuchmodel --out {o}/k.png", "k.png",
     "nosuchmodel is not a model folder"),
    ("write-precision", "write 가 --precision half --out {o}/k.png", "k.png",
     "argument --precision: invalid choice: 'half'"),
    # --- synth ---
    ("synth-perclass-zero", "synth --per-class 0 --out {o}/k.npz", "k.npz",
     "argument --per-class: must be from 1 to 1,000,000, got 0"),
    ("synth-perclass-huge", "synth --per-class 1000000000000 --out {o}/k.npz", "k.npz",
     "argument --per-class: must be from 1 to 1,000,000"),
    ("synth-memory", "synth --charset all11172 --per-class 1000000 --out {o}/k.npz", "k.npz",
     "of memory; this machine has"),
    ("synth-charset", "synth --charset {d}/latin.txt --out {o}/k.npz", "k.npz",
     "is not a precomposed Hangul syllable"),
    ("synth-size", "synth --size 48 --out {o}/k.npz", "k.npz", "size 48 is not supported"),
    ("synth-styles", "synth --charset 가 --styles NoSuchFont --out {o}/k.npz", "k.npz",
     "unknown style"),
    ("synth-styles-empty", "synth --charset 가 --styles , --out {o}/k.npz", "k.npz",
     "styles"),
    ("synth-batch", "synth --batch-size 0 --out {o}/k.npz", "k.npz",
     "argument --batch-size: must be from 1 to 8,192"),
    ("synth-format", "synth --format tar --out {o}/k.npz", "k.npz",
     "argument --format: invalid choice"),
    ("synth-out-folder", "synth --charset 가 --out {d}/folder", None, "is a folder"),
    ("synth-imagefolder-file", "synth --charset 가 --format imagefolder --out {d}/afile",
     None, "is a file; imagefolder needs a folder"),
    ("synth-seed", "synth --seed 99999999999 --out {o}/k.npz", "k.npz", "argument --seed"),
    # --- evaluator train / evaluate ---
    ("evtrain-epochs", "evaluator train --epochs 0 --out {o}/ev", "ev",
     "argument --epochs: must be from 1 to 10,000"),
    ("evtrain-copies", "evaluator train --copies -1 --out {o}/ev", "ev",
     "argument --copies: must be from 0"),
    ("evtrain-charset", "evaluator train --charset xyz --out {o}/ev", "ev",
     "unknown charset 'xyz'"),
    ("evtrain-fonts", "evaluator train --charset 가나 --fonts {d}/fake.ttf --out {o}/ev", "ev",
     "fake.ttf"),
    ("evaluate-n", "evaluate --samples {d}/junk.npz --n 0", None,
     "argument --n: must be from 1 to 1,000,000"),
    ("evaluate-samples-missing", "evaluate --samples {d}/nope.npz", None, "nope.npz"),
    ("evaluate-samples-junk", "evaluate --samples {d}/junk.npz", None, "junk.npz"),
    ("evaluate-rundir", "evaluate --run-dir {d}/folder", None, "folder"),
    ("evaluate-cas-seeds", "evaluate --samples {d}/junk.npz --cas-seeds -1", None,
     "argument --cas-seeds: must be"),
    ("evaluate-evaluator", "evaluate --samples {d}/samples.npz --evaluator {d}/nope", None,
     "nope"),
    ("evaluate-json-folder", "evaluate --samples {d}/samples.npz --json {d}/folder", None,
     "output {d}/folder is a folder"),
    ("evaluate-data", "evaluate --samples {d}/samples.npz --data {d}/nope.npz", None,
     "dataset {d}/nope.npz does not exist"),
    ("evaluate-no-images", "evaluate --samples {d}/labels.npz", None,
     "has no 'images' array"),
    # --- demo ---
    ("demo-epochs", "demo --epochs 0 --media {o}/media", "media",
     "argument --epochs: must be from 1"),
    ("demo-fonts", "demo --epochs 1 --fonts {d}/fake.ttf --media {o}/media "
     "--data {o}/d.npz --run-dir {o}/run", "d.npz", "fake.ttf"),
    # --- template ---
    ("template-charset", "template --charset xyz --out {o}/k.pdf", "k.pdf",
     "unknown charset 'xyz'"),
    ("template-page", "template --page A3 --out {o}/k.pdf", "k.pdf",
     "argument --page: invalid choice: 'A3'"),
    ("template-box", "template --box-mm 1 --out {o}/k.pdf", "k.pdf",
     "argument --box-mm: must be from 5 to 100, got 1"),
    ("template-box-text", "template --box-mm wide --out {o}/k.pdf", "k.pdf",
     "argument --box-mm: give a number from 5 to 100, got 'wide'"),
    ("template-dpi", "template --dpi 10 --out {o}/k.pdf", "k.pdf",
     "argument --dpi: must be from 72 to 1,200, got 10"),
    ("template-dpi-huge", "template --dpi 100000 --out {o}/k.pdf", "k.pdf",
     "argument --dpi: must be from 72 to 1,200"),
    ("template-font", "template --font {d}/fake.ttf --out {o}/k.pdf", "k.pdf", "fake.ttf"),
    ("template-suffix", "template --out {o}/k.docx", "k.docx", "k.docx"),
    ("template-out-folder", "template --out {d}/folder", None, "folder"),
    # --- ingest ---
    ("ingest-missing", "ingest {d}/nope.jpg --out {o}/k.npz", "k.npz", "nope.jpg"),
    ("ingest-notphoto", "ingest {d}/photo.jpg --charset seed16 --out {o}/k.npz", "k.npz",
     "photo.jpg"),
    ("ingest-no-sheet", "ingest {d}/photo.jpg --out {o}/k.npz", "k.npz",
     "which sheet is it? give --layout sheet.json"),
    ("ingest-photo-folder", "ingest {d}/folder --out {o}/k.npz", "k.npz",
     "photo {d}/folder is not a file"),
    ("ingest-suffix", "ingest {d}/photo.jpg --out {o}/k.png", "k.png", "must end in .npz"),
    ("ingest-style", "ingest {d}/photo.jpg --style 'my hand' --out {o}/k.npz", "k.npz",
     "style name 'my hand' may hold only"),
    ("ingest-layout-missing", "ingest {d}/photo.jpg --layout {d}/nope.json --out {o}/k.npz",
     "k.npz", "nope.json"),
    ("ingest-layout-bad", "ingest {d}/photo.jpg --layout {d}/notjson.json --out {o}/k.npz",
     "k.npz", "notjson.json"),
    ("ingest-layout-list", "ingest {d}/photo.jpg --layout {d}/list.json --out {o}/k.npz",
     "k.npz", "list.json"),
    ("ingest-size", "ingest {d}/photo.jpg --size 4 --out {o}/k.npz", "k.npz",
     "argument --size: must be from 8 to 512"),
    ("ingest-dpi", "ingest {d}/photo.jpg --dpi 0 --out {o}/k.npz", "k.npz",
     "argument --dpi: must be from 72"),
    ("ingest-box", "ingest {d}/photo.jpg --box-mm 1000 --out {o}/k.npz", "k.npz",
     "argument --box-mm: must be from 5 to 100"),
    ("ingest-charset", "ingest {d}/photo.jpg --charset xyz --out {o}/k.npz", "k.npz", "xyz"),
    ("ingest-out-folder", "ingest {d}/photo.jpg --out {d}/folder", None, "folder"),
    # --- adapt ---
    ("adapt-missing", "adapt --style-from {d}/nope.npz --out {o}/k.npz", "k.npz",
     "nope.npz"),
    ("adapt-junk", "adapt --style-from {d}/junk.npz --out {o}/k.npz", "k.npz", "junk.npz"),
    ("adapt-steps", "adapt --style-from {d}/junk.npz --steps -1 --out {o}/k.npz", "k.npz",
     "argument --steps: must be from 0 to 100,000"),
    ("adapt-seed", "adapt --style-from {d}/junk.npz --seed x --out {o}/k.npz", "k.npz",
     "argument --seed"),
    # --- font ---
    ("font-suffix", "font --style Gaegu --out {o}/k.pdf", "k.pdf",
     "give a font file name ending in"),
    ("font-charset", "font --style Gaegu --charset abc --out {o}/k.ttf", "k.ttf", "abc"),
    ("font-charset-jamo", "font --style Gaegu --charset {d}/jamo.txt --out {o}/k.ttf",
     "k.ttf", "is not a precomposed Hangul syllable"),
    ("font-family-long", "font --style Gaegu --family " + "x" * 40 + " --out {o}/k.ttf",
     "k.ttf", "at most 31"),
    ("font-style", "font --style NoSuchFont --charset 가 --out {o}/k.ttf", "k.ttf",
     "unknown style"),
    ("font-latin", "font --style Gaegu --charset 가 --latin-from nosuchfont --out {o}/k.ttf",
     "k.ttf", "nosuchfont"),
    ("font-written", "font --style Gaegu --charset 가 --written {d}/junk.npz --out {o}/k.ttf",
     "k.ttf", "junk.npz"),
    ("font-license", "font --style Gaegu --charset 가 --license-file {d}/nope.txt --out "
     "{o}/k.ttf", "k.ttf", "--license-file {d}/nope.txt: no such file"),
    ("font-license-binary", "font --style Gaegu --charset 가 --license-file {d}/license.bin "
     "--out {o}/k.ttf", "k.ttf", "--license-file {d}/license.bin: not UTF-8 text"),
    ("font-version", "font --style Gaegu --charset 가 --version one --out {o}/k.ttf", "k.ttf",
     "version"),
    ("font-seed", "font --seed -2 --out {o}/k.ttf", "k.ttf", "argument --seed"),
    ("font-batch", "font --batch-size 0 --out {o}/k.ttf", "k.ttf",
     "argument --batch-size: must be from 1"),
    ("font-out-folder", "font --style Gaegu --charset 가 --out {d}/folder", None, "folder"),
    # --- lines ---
    ("lines-random-zero", "lines --random 0 --out {o}/lines", "lines",
     "argument --random: must be from 1 to 10,000,000, got 0"),
    ("lines-random-huge", "lines --random 100000000000 --out {o}/lines", "lines",
     "argument --random: must be from 1"),
    ("lines-count", "lines --random 5 --count 0 --out {o}/lines", "lines",
     "argument --count: must be from 1"),
    ("lines-text-missing", "lines --text {d}/nope.txt --out {o}/lines", "lines",
     "corpus file {d}/nope.txt does not exist"),
    ("lines-text-latin1", "lines --text {d}/latin1.txt --out {o}/lines", "lines",
     "is not UTF-8"),
    ("lines-text-blank", "lines --text {d}/blank.txt --out {o}/lines", "lines",
     "has no line with text"),
    ("lines-text-long", "lines --text {d}/long.txt --out {o}/lines", "lines",
     "line 1: 201 characters"),
    ("lines-both", "lines --text {d}/long.txt --random 3 --out {o}/lines", "lines",
     "not allowed with argument"),
    ("lines-neither", "lines --out {o}/lines", "lines", "one of the arguments"),
    ("lines-height", "lines --random 5 --height 48 --out {o}/lines", "lines",
     "size 48 is not supported"),
    ("lines-format", "lines --random 5 --format csv --out {o}/lines", "lines",
     "argument --format: invalid choice"),
    ("lines-runtime", "lines --random 5 --runtime torch --out {o}/lines", "lines",
     "argument --runtime: invalid choice"),
    ("lines-runtime-precision", "lines --random 5 --runtime onnx --precision mixed_bfloat16 "
     "--out {o}/lines", "lines", "the onnx runtime computes in float32"),
    ("lines-runtime-no-export", "lines --random 5 --runtime onnx --model hangul-v1 "
     "--out {o}/lines", "lines", "hangul-v1/generator.onnx does not exist"),
    # --- export-onnx ---
    ("export-onnx-nothing", "export-onnx --no-model", None, "nothing to export"),
    ("export-onnx-model", "export-onnx --model {d}/folder", None, "holds no config.json"),
    ("export-onnx-upsampler", "export-onnx --no-model --upsampler {d}/folder", None,
     "is not an upsampler folder"),
    # --- interpolate ---
    ("interpolate-weight", "interpolate --models hangul-v1 default --weight 2 --out {o}/m",
     "m", "weight 2.0 is not between 0 and 1"),
    ("interpolate-architecture", "interpolate --models hangul-v1 hangul-fast --out {o}/m",
     "m", "differ in g_block_filters"),
    ("interpolate-missing", "interpolate --models {d}/folder default --out {o}/m", "m",
     "holds no config.json"),
    ("lines-shard", "lines --random 5 --shard 4/4 --out {o}/lines", "lines",
     "--shard 4/4: K must be 0 to N-1"),
    ("lines-shard-text", "lines --random 5 --shard half --out {o}/lines", "lines",
     "--shard 'half': give K/N"),
    ("lines-workers", "lines --random 5 --workers 0 --out {o}/lines", "lines",
     "argument --workers: must be from 1 to 64"),
    ("lines-ray", "lines --random 5 --ray 0 --out {o}/lines", "lines",
     "argument --ray: must be from 1"),
    ("lines-batch", "lines --random 5 --batch-lines 0 --out {o}/lines", "lines",
     "argument --batch-lines: must be from 1"),
    ("lines-augment-missing", "lines --random 5 --augment {d}/nope.json --out {o}/lines",
     "lines", "give default, none or a JSON file"),
    ("lines-augment-bad", "lines --random 5 --augment {d}/notjson.json --out {o}/lines",
     "lines", "not a JSON object of LineAugment fields"),
    ("lines-augment-list", "lines --random 5 --augment {d}/list.json --out {o}/lines",
     "lines", "not a JSON object of LineAugment fields"),
    ("lines-augment-range", "lines --random 5 --augment {d}/augment.json --out {o}/lines",
     "lines", "LineAugment.rotation must be a number in"),
    ("lines-styles-weight", "lines --random 5 --styles Gaegu:x --out {o}/lines", "lines",
     "the weight after ':' must be a number"),
    ("lines-styles-negative", "lines --random 5 --styles Gaegu:-1 --out {o}/lines", "lines",
     "the weight must be positive"),
    ("lines-styles-unknown", "lines --random 5 --styles NoSuchFont --out {o}/lines", "lines",
     "unknown style 'NoSuchFont'"),
    ("lines-frequency", "lines --random 5 --frequency-from {d}/nope.txt --out {o}/lines",
     "lines", "nope.txt"),
    ("lines-out-file", "lines --random 5 --out {d}/afile", None, "afile"),
    ("lines-out-foreign", "lines --random 5 --out {d}/folder", None, "folder"),
    ("lines-disk", "lines --random 10000000 --height 128 --out {o}/lines", "lines",
     "10,000,000 lines at height 128 needs about 596.0 GB of disk"),
    ("lines-seed", "lines --random 5 --seed -1 --out {o}/lines", "lines", "argument --seed"),
    # --- fonts and evaluator info ---
    ("fonts-list-missing", "fonts list {d}/nope.ttf", None, "{d}/nope.ttf"),
    ("fonts-list-fake", "fonts list {d}/fake.ttf", None, "no usable font"),
    ("fonts-list-charset", "fonts list --charset xyz", None, "unknown charset 'xyz'"),
    ("fonts-catalog", "fonts catalog --font-dir {d}/nope", None,
     "--font-dir {d}/nope: no such folder"),
    ("fonts-metrics-out", "fonts metrics --out {d}/folder", None, "folder"),
    ("fonts-metrics-fake", "fonts metrics {d}/fake.ttf --out {o}/m.npz", "m.npz",
     "no usable font"),
    ("evaluator-info", "evaluator info nosuch", None, "no committed evaluator 'nosuch'"),
    ("evaluator-export-unknown", "evaluator export-onnx nosuch", None,
     "no committed evaluator 'nosuch'"),
    ("evaluator-export-one-head", "evaluator export-onnx seed16", None,
     "the evaluator seed16 reads syllables with one head, not jamo"),
    # --- serve ---
    ("serve-port", "serve --port 70000", None, "--port must be 0 to 65535, got 70000"),
    ("serve-port-text", "serve --port http", None, "argument --port: invalid int value"),
    ("serve-host", "serve --host no.such.host.invalid", None,
     "--host no.such.host.invalid: not an address of this machine"),
    # --- the command itself ---
    ("no-command", "", None, "the following arguments are required: COMMAND"),
    ("unknown-command", "wrte 가", None, "argument COMMAND: invalid choice: 'wrte'"),
    ("unknown-option", "write 가 --colour red --out {o}/k.png", "k.png",
     "unrecognized arguments: --colour red"),
]


def _argv(template: str, d: Path, o: Path) -> list[str]:
    import shlex

    return [part.replace("{d}", str(d)).replace("{o}", str(o))
            for part in shlex.split(template)]


@pytest.mark.parametrize(("argv", "output", "message"),
                         [pytest.param(a, out, m, id=case) for case, a, out, m in CASES])
def test_a_bad_input_is_one_clear_line_and_nothing_is_written(place, tmp_path, capsys,
                                                               monkeypatch, argv, output,
                                                               message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KOREAN_GAN_DEBUG", raising=False)
    out = tmp_path / "out"
    out.mkdir()
    precious = None
    if output is not None and "." in output:  # an earlier output of the same name
        precious = out / output
        precious.write_bytes(PRECIOUS)
    code = main(_argv(argv, place, out))  # argparse's errors too: main returns the status
    said = capsys.readouterr()
    assert code == 2, (code, said.err)
    # Warnings about what was skipped may come first; then one line of error, and no
    # progress bar: nothing had started.
    *warned, err = said.err.rstrip("\n").split("\n")
    assert all(line.startswith("warning: ") for line in warned), said.err
    assert "Traceback" not in said.err and "\r" not in said.err, said.err
    assert err.startswith("korean-gan: error: "), err
    expected = message.replace("{d}", str(place)).replace("{o}", str(out))
    assert expected in err, err
    # Nothing written: the earlier output keeps its bytes, no new file or folder appears,
    # no hidden temporary file is left beside it.
    if precious is not None:
        assert precious.read_bytes() == PRECIOUS
        assert sorted(p.name for p in out.iterdir()) == [output]
    else:
        assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_corpus_covers_every_command():
    from korean_gan.cli import build_parser

    commands = set()
    for action in build_parser()._subparsers._group_actions[0].choices.items():
        name, parser = action
        subs = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        commands |= {f"{name} {s}" for s in subs[0].choices} if subs else {name}
    covered = {" ".join(a.split()[:2]) if a.split()[0] in ("data", "evaluator", "fonts")
               else a.split()[0] for _, a, _, _ in CASES if a}
    # styles and models take no value: nothing to get wrong there.
    assert commands - covered == {"styles", "models"}, commands - covered
    assert len(CASES) >= 150


# --- every parser of user text: a result or one clear error, never anything else
# (derandomized: the same examples on every run, so a failure is reproducible in CI)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Text as people type and paste it: Hangul (composed and as jamo), Latin, digits, marks,
# whitespace, control characters and anything else Unicode holds.
TEXT = st.text(st.one_of(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3),
                         st.characters(min_codepoint=0x1100, max_codepoint=0x11FF),
                         st.sampled_from(list("가나 다,./:\\\n\t-_0123456789abcXYZ*?\"'")),
                         st.characters()), max_size=40)
QUICK = settings(max_examples=150, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def _one_line(err: Exception) -> None:
    text = str(err)
    assert text and "\n" not in text and "Traceback" not in text, repr(text)


@QUICK
@given(spec=TEXT)
def test_any_charset_specification_is_a_charset_or_one_clear_error(spec):
    from korean_gan.data.charsets import CharsetError, resolve_charset

    try:
        charset = resolve_charset(spec)
    except CharsetError as err:
        _one_line(err)
    else:
        assert len(charset) > 0 and all("가" <= c <= "힣" for c in charset.chars)


@QUICK
@given(spec=TEXT, count=st.integers(1, 10**6))
def test_any_shard_is_a_block_or_one_clear_error(spec, count):
    from korean_gan.textlines import LinesError, parse_shard

    try:
        block = parse_shard(spec, count)
    except LinesError as err:
        _one_line(err)
    else:
        assert 0 <= block.start <= block.stop <= count


@QUICK
@given(size=st.one_of(st.integers(-10**9, 10**9), st.floats(allow_nan=True), st.text(max_size=5),
                      st.none(), st.booleans()))
def test_any_size_is_supported_or_named(size):
    from korean_gan.generate import SIZES, HandwritingError, check_size

    try:
        assert check_size(size) in SIZES
    except HandwritingError as err:
        _one_line(err)
        assert "32, 64, 128" in str(err)


@QUICK
@given(text=TEXT)
def test_any_option_value_is_a_number_in_range_or_one_clear_error(text):
    import argparse

    from korean_gan.cli._common import float_range, int_range

    for parse, low, high in ((int_range(1, 16), 1, 16), (float_range(5, 100), 5, 100)):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError as err:
            _one_line(err)
        else:
            assert low <= value <= high


@QUICK
@given(data=st.binary(max_size=300))
def test_any_corpus_file_is_lines_or_one_clear_error(tmp_path_factory, data):
    from korean_gan.data.corpus import CorpusError, read_corpus

    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_bytes(data)
    try:
        lines = read_corpus(path)
    except CorpusError as err:
        _one_line(err)
    else:
        assert lines and all(line == line.strip() and line for line in lines)


@QUICK
@given(spec=TEXT)
def test_any_web_charset_is_named_syllables_or_one_clear_error(spec):
    pytest.importorskip("fastapi")
    from korean_gan.server.app import CHARSETS, check_charset

    try:
        charset = check_charset(spec)
    except ValueError as err:
        _one_line(err)
    else:
        assert charset in CHARSETS or all("가" <= c <= "힣" for c in charset)


@pytest.fixture(scope="module")
def writer():
    from korean_gan.generate import Handwriting

    return Handwriting.load("default", precision="float32")


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, style=st.one_of(st.sampled_from(["random-one", "mix-one", "mean", "0", "17",
                                                   "Gaegu", "18", "-1", "", "fonts"]), TEXT))
def test_any_text_and_style_are_written_or_one_clear_error(writer, text, style):
    from korean_gan.generate import HandwritingError

    try:
        image = writer.write(text, style=style, size=32)
    except HandwritingError as err:
        _one_line(err)
    else:
        assert image.dtype.name == "uint8" and image.ndim == 2 and image.min() < 255


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=TEXT)
def test_any_lines_style_list_is_entries_or_one_clear_error(writer, spec):
    from korean_gan.textlines import parse_styles

    try:
        entries = parse_styles(spec, writer)
    except ValueError as err:  # LinesError, HandwritingError
        _one_line(err)
    else:
        assert entries and all(weight > 0 for _, weight in entries)
