"""Small helpers shared by the test modules (imported as `from helpers import ...`)."""

from kagglenlp.cli import main

# patents: the tiniest runs that still train every fold (MiniLM, 2 optimizer steps per fold)
PATENTS_TINY = ["--model", "minilm", "--folds", "2", "--max-steps", "2", "--bs", "8", "--seed", "0"]
PATENTS_TINY_CROSS = [*PATENTS_TINY[:2], "--arch", "cross", "--folds", "3", *PATENTS_TINY[4:]]  # 3 cross-encoder folds
KERNEL_TINY = "{'epochs': 1, 'bs': 16, 'max_rows': 120, 'max_steps': 2}"  # `settings` of a rehearsed fold kernel

# IMDb: the tiniest AWD-LSTM and schedule that still runs every stage
IMDB_SMALL = "--emb-sz 16 --n-hid 32 --n-layers 1 --bs 8 --seq-len 16 --threads 1 --min-freq 1".split()  # pretrain too
IMDB_TINY = IMDB_SMALL + "--lm-epochs 1 1 --clas-epochs 1 1 1 1".split()
IMDB_TINY_KW = dict(
    emb_sz=16, n_hid=32, n_layers=1, bs=8, seq_len=16, threads=1, min_freq=1, lm_epochs=[1, 1], clas_epochs=[1, 1, 1, 1]
)  # IMDB_TINY as UlmfitConfig fields


def patents(*argv):
    "Run `kagglenlp patents ARGV` in this process (arguments may be paths or numbers); returns the exit code."
    return main(["patents", *map(str, argv)])


def kaggle_cli(capsys, *argv):
    "Run `kagglenlp kaggle ARGV`; returns `(exit code, stdout, stderr)`."
    rc = main(["kaggle", *map(str, argv)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def one_error_line(capsys):
    "The one `error:` line on stderr (progress bars may come before it), checked to be the last and only one."
    err = capsys.readouterr().err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert "Traceback" not in err and lines and lines[-1].startswith("error: "), err
    assert sum(line.startswith("error:") for line in lines) == 1, err
    return lines[-1]
