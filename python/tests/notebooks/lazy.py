import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import random

    import marimo as mo

    return mo, random


@app.cell
def _(mo, random):
    # lazy method: marimo writes a manifest and one blob per variable to its own folder
    with mo.persistent_cache(name="lazy_block", method="lazy"):
        lazy_token = random.random()
        lazy_list = [1, "two", 3.0, lazy_token]
        lazy_int = 42
    return lazy_int, lazy_list, lazy_token


@app.cell
def _(lazy_int, mo):
    # The same block name in a second cell: its loader reuses the first one's store, which
    # celltime wrapped when this cell started, so marimo's writer thread reports to celltime
    # while celltime waits for it at the cell's end.
    with mo.persistent_cache(name="lazy_block", method="lazy"):
        lazy_again = [lazy_int, lazy_int + 1]
    return (lazy_again,)


@app.cell
def _(lazy_again, lazy_int, lazy_list, lazy_token):
    print("LAZY", lazy_token, lazy_list[-1], lazy_int, lazy_again)
    return


if __name__ == "__main__":
    app.run()
