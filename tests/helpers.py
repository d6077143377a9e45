"""Small helpers shared by the test modules (imported as `from helpers import ...`)."""

# IMDb: the tiniest AWD-LSTM and schedule that still runs every stage
IMDB_SMALL = "--emb-sz 16 --n-hid 32 --n-layers 1 --bs 8 --seq-len 16 --threads 1 --min-freq 1".split()  # pretrain too
IMDB_TINY = IMDB_SMALL + "--lm-epochs 1 1 --clas-epochs 1 1 1 1".split()


def one_error_line(capsys):
    "The one `error:` line on stderr (progress bars may come before it), checked to be the last and only one."
    err = capsys.readouterr().err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert "Traceback" not in err and lines and lines[-1].startswith("error: "), err
    assert sum(line.startswith("error:") for line in lines) == 1, err
    return lines[-1]
