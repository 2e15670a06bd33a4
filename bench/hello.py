"""The ceiling: a bare Flask hello-world, served exactly like the platform.

gunicorn --workers 2 --bind 127.0.0.1:PORT bench.hello:app
"""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, World!"
