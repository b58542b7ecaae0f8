import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import random

    import marimo as mo

    return mo, random


@app.cell
def _():
    n_items = 5
    return (n_items,)


@app.cell
def _(mo, n_items, random):
    # context-manager form, pickle (marimo's default method)
    with mo.persistent_cache(name="ctx_block"):
        token = random.random()
        squares = [i * i for i in range(n_items)]
    return squares, token


@app.cell
def _(mo, random):
    # decorator form, pickle
    @mo.persistent_cache
    def expensive(n):
        return {"n": n, "noise": random.random()}

    out = expensive(3)
    return (out,)


@app.cell
def _(mo, n_items, random):
    # json method
    with mo.persistent_cache(name="json_block", method="json"):
        json_token = random.random()
        json_payload = {"k": [1, 2, n_items]}
    return json_payload, json_token


@app.cell
def _(json_payload, json_token, out, squares, token):
    print("TOKENS", token, out["noise"], json_token, squares, json_payload["k"])
    return


if __name__ == "__main__":
    app.run()
