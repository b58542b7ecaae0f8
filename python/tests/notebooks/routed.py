import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import random

    import marimo as mo
    from marimo._save.loaders.lazy import LazyLoader

    from celltime.marimo import CelltimeStore

    return CelltimeStore, LazyLoader, mo, random


@app.cell
def _(CelltimeStore, LazyLoader, mo, random):
    # A lazy loader routed through celltime's store (verification off: the store is not a
    # local FileStore, so marimo would otherwise need a signing key)
    loader = LazyLoader.partial(store=CelltimeStore(), verification="off")
    with mo.cache("routed", loader=loader):
        routed_token = random.random()
        routed_list = [1, "two", routed_token]
    return routed_list, routed_token


@app.cell
def _(routed_list, routed_token):
    print("ROUTED", routed_token, routed_list[-1])
    return


if __name__ == "__main__":
    app.run()
