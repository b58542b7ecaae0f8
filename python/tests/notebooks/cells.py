import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import random

    return (random,)


@app.cell
def draw(random):
    cell_token = random.random()
    info = {"token": cell_token, "items": [1, 2, 3]}
    return cell_token, info


@app.cell
def _(cell_token):
    print("CELLTOKEN", cell_token)
    return


if __name__ == "__main__":
    app.run()
